"""The only code that speaks WebDAV: Depth 0/1 listings, GET to file, PUT from file, MKCOL, MOVE,
DELETE, conditional requests, retries, error mapping, and what this server has proven it does.
Imports nothing above it."""
