"""The ground floor shared by every other floor: errors, canonical JSON, atomic writes and
cache paths. It imports nothing from rbkit above it (installed as `rbkit.core`)."""
