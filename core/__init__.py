"""The ground floor shared by every other floor: errors, canonical JSON, atomic writes, the
cache root and output tails. It imports nothing from rbkit above it (installed as `rbkit.core`).

Each mechanism exists once, here:
- `rbkit.core.errors.RbkitError`: the base of every error the CLI prints without a traceback;
- `rbkit.core.jsonio.canonical_json`: the one encoding used for hashing and storage;
- `rbkit.core.files.atomic_write`: every file rbkit writes;
- `rbkit.core.digest.sha256_file`: every file's sha256 (source pins, manifests, model fingerprints);
- `rbkit.core.paths.cache_root`: `$RBKIT_CACHE`, else `~/.cache/rbkit`;
- `rbkit.core.tail.tail` / `tail_file`: the end of a program's output, for messages.
"""
