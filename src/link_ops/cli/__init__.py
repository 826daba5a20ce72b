"""What the ``ape run`` scripts share: options, the console, and how errors are shown."""
