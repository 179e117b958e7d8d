"""socialsync: connect creators' social accounts to a CRM."""
