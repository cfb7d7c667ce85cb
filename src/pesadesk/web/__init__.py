"""The dashboard: one static page that talks to the JSON API with the user's key."""
