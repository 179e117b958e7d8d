"""The arq worker: every platform API call happens here."""
