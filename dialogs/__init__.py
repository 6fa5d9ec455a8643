"""Conversations: state machines that call engine services and speak through locales/."""
