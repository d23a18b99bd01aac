#!/usr/bin/env python3
"""Writes docs/coverage/core.tsv: where the seed columns of the core tables
(identity, platform, customers, support desk, audit) live. Same-named columns
map to themselves; the exceptions are listed here with their reasons."""
import subprocess, sys, os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F0, F1, F2, F3, F4 = ("000_935bc3d09933060a.txt", "001_7ecc6bbe754a0e8b.txt", "002_ca8f339db4e923b2.txt",
                      "003_e96e66ec493eec00.txt", "004_114da8e656aa33ab.txt")
TENANCY = "none: tenancy is the database itself (one database per tenant), so rows carry no tenant column"
# (file, seed table) -> our table
TABLES = {
    (F0, "users"): "users", (F0, "roles"): "roles", (F0, "user_roles"): "user_roles",
    (F0, "customers"): "customers", (F0, "customer_contacts"): "customer_contacts",
    (F0, "support_tickets"): "tickets", (F0, "ticket_messages"): "ticket_messages", (F0, "audit_logs"): "audit_logs",
    (F1, "tenants"): "tenants", (F1, "plans"): "plans", (F1, "features"): "features",
    (F1, "plan_features"): "plan_features", (F1, "subscriptions"): "subscriptions",
    (F1, "tenant_features"): "tenant_features", (F1, "super_admins"): "super_admins",
    (F1, "audit_logs"): "audit_logs", (F1, "users"): "users", (F1, "roles"): "roles",
    (F1, "permissions"): "permissions", (F1, "role_permissions"): "role_permissions",
    (F1, "user_roles"): "user_roles", (F1, "data_masking_rules"): "data_masking_rules",
    (F1, "user_sessions"): "user_sessions",
    (F2, "organizations"): "tenants", (F2, "users"): "users", (F2, "categories"): "categories",
    (F2, "tickets"): "tickets", (F2, "messages"): "ticket_messages", (F2, "documents"): "documents",
    (F2, "document_categories"): "document_categories",
    (F3, "user_sessions"): "user_sessions", (F3, "audit_logs"): "audit_logs", (F3, "categories"): "categories",
    (F3, "customers"): "customers",
    (F4, "organizations"): "tenants", (F4, "users"): "users", (F4, "roles"): "roles",
    (F4, "permissions"): "permissions", (F4, "user_roles"): "user_roles",
}
# (file, seed table, column) -> home
SPECIAL = {
    (F0, "users", "user_id"): "users.id",
    (F0, "users", "phone_number"): "users.phone",
    (F0, "roles", "role_id"): "roles.id",
    (F0, "roles", "role_name"): "roles.code",
    (F0, "roles", "role_description"): "roles.description",
    (F0, "roles", "is_system_role"): "roles.is_system",
    (F0, "user_roles", "user_role_id"): "user_roles.id",
    (F0, "customers", "customer_id"): "customers.id",
    (F0, "customer_contacts", "contact_id"): "customer_contacts.id",
    (F0, "support_tickets", "ticket_id"): "tickets.id",
    (F0, "support_tickets", "subject"): "tickets.title",
    (F0, "support_tickets", "category"): "tickets.category_id",
    (F0, "support_tickets", "assigned_to"): "tickets.assigned_agent_id",
    (F0, "ticket_messages", "message_id"): "ticket_messages.id",
    (F0, "ticket_messages", "message_content"): "ticket_messages.content",
    (F0, "audit_logs", "audit_id"): "audit_logs.id",
    (F0, "audit_logs", "table_name"): "audit_logs.entity_type",
    (F0, "audit_logs", "record_id"): "audit_logs.entity_id",
    (F0, "audit_logs", "action_type"): "audit_logs.action",
    (F0, "audit_logs", "action_timestamp"): "audit_logs.created_at",
    (F1, "audit_logs", "tenant_id"): TENANCY,
    (F2, "organizations", "plan"): "subscriptions.plan_id",
    (F2, "organizations", "is_active"): "tenants.status",
    (F2, "users", "organization_id"): TENANCY,
    (F2, "users", "role"): "user_roles.role_id",
    (F2, "categories", "organization_id"): TENANCY,
    (F2, "tickets", "organization_id"): TENANCY,
    (F2, "tickets", "priority"): "tickets.priority_level",
    (F2, "documents", "organization_id"): TENANCY,
    (F3, "user_sessions", "last_activity"): "user_sessions.last_activity_at",
    (F3, "audit_logs", "action_type"): "audit_logs.action",
    (F3, "audit_logs", "resource_type"): "audit_logs.entity_type",
    (F3, "audit_logs", "resource_id"): "audit_logs.entity_id",
    (F3, "audit_logs", "old_data"): "audit_logs.old_values",
    (F3, "audit_logs", "new_data"): "audit_logs.new_values",
    (F3, "audit_logs", "additional_context"): "audit_logs.metadata",
    (F4, "organizations", "subscription_tier"): "subscriptions.plan_id",
    (F4, "users", "organization_id"): TENANCY,
    (F4, "roles", "organization_id"): TENANCY,
}

def main():
    catalog = os.path.join(ROOT, "..", "shared", "tools", "seed-catalog")
    rows = subprocess.check_output([catalog], text=True).splitlines()
    out = []
    for line in rows:
        f, t, c = line.split("\t")
        table = TABLES.get((f, t))
        if not table:
            continue
        home = SPECIAL.get((f, t, c), f"{table}.{c}")
        out.append(f"{f}\t{t}\t{c}\t{home}")
    with open(os.path.join(ROOT, "docs", "coverage", "core.tsv"), "w") as fh:
        fh.write("\n".join(out) + "\n")
    print(f"core.tsv: {len(out)} rows")

if __name__ == "__main__":
    sys.exit(main())
