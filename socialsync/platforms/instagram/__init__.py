"""Instagram through the Meta Graph API, with Instagram Login and Facebook Login."""
