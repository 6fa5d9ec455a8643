"""Customers: identity by phone number and language preference."""

from engines.customers.service import Customer, CustomerService

__all__ = ["Customer", "CustomerService"]
