"""HTTP routes of the sandbox, one module per emulated surface (plus the control API)."""
