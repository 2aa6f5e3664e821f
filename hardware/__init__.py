"""Hardware drivers: scanners and printers behind small interfaces, with recording fakes."""
