"""Platform integrations; each platform's specifics stay inside its own package."""
