"""The protocol every client speaks (PROTOCOL.md): what a request may hold and its two forms."""
