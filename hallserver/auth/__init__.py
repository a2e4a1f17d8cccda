"""Who may do what: roles and their permissions, password hashing. No HTTP, no SQL here."""

from hallserver.auth.passwords import check_password_rules, hash_password, verify_password
from hallserver.auth.roles import ROLES, allowed, role_label

__all__ = ["ROLES", "allowed", "check_password_rules", "hash_password", "role_label", "verify_password"]
