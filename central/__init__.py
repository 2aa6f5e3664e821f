"""The reference central platform: bookings, signed booking QR codes, keys, station feed."""
