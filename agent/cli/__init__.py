"""`berth run`: a conversation in the terminal."""
