"""One module per CLI command group; `rbkit.cli` mounts them."""
