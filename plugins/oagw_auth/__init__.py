"""oagw auth plugins (G-14.5): apikey, bearer, OAuth2 client credentials (form and Basic), HTTP Basic."""
