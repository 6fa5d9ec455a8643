"""Notifications: the deliveries outbox for messages that are not a webhook's answer."""

from engines.notifications.model import Delivery, DeliveryStatus, retry_delay
from engines.notifications.service import NotificationService, message_of

__all__ = ["Delivery", "DeliveryStatus", "NotificationService", "message_of", "retry_delay"]
