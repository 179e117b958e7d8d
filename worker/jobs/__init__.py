"""Job functions, one module per area; names are `<area>.<verb>`."""
