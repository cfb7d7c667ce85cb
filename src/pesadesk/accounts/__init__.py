"""Collection accounts: which shortcode and which credentials each Daraja call uses."""
