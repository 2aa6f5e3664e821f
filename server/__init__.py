"""Station server: queue engine, station service, SQLite store, web and Socket.IO, sync."""
