"""Messages to people: WhatsApp Cloud API texts to admins and customers."""
