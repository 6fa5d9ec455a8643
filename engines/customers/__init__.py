"""Customers: identity by phone number and language preference."""

from engines.customers.service import Customer, CustomerService, DeliveryPoint

__all__ = ["Customer", "CustomerService", "DeliveryPoint"]
