"""ChatRoom."""
