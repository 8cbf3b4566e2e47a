"""Principals' privileges on BigQuery: the table's IAM policy and its dataset's access entries.

Two metadata calls per table, no query job (nothing billed): ``tables.getIamPolicy``
(https://cloud.google.com/bigquery/docs/reference/rest/v2/tables/getIamPolicy) and
``datasets.get`` (its ``access`` list, read once per dataset:
https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets#Dataset.FIELDS.access),
through the adapter's client, each with the adapter's ``timeout``. A principal is an IAM
member as IAM spells it (``serviceAccount:churn@p.iam.gserviceaccount.com``,
``user:ana@example.com``, ``group:ml@example.com``); a bare e-mail matches any kind. A role
grants privileges as in ``_ROLES``: readers may select, editors and owners also insert,
update and delete. Not seen: roles granted on the project or folder (IAM on the resource
manager), membership of a Google group, custom roles, IAM conditions. So a principal that
holds its access only through those reads as not holding it; BigQuery cannot tell whether
a member exists, so ``granted`` is never None here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from watchdog.errors import TableNotFound
from watchdog.models import AccessGrant, TableRef

if TYPE_CHECKING:
    from watchdog.warehouses.bigquery import BigQuery

_READ = frozenset({"select"})
_WRITE = frozenset({"select", "insert", "update", "delete"})
#: Predefined and basic roles, and the dataset's legacy roles, by what they let a member do
#: to a table's rows: https://cloud.google.com/bigquery/docs/access-control#bigquery-roles
_ROLES: dict[str, frozenset[str]] = {
    "READER": _READ, "roles/bigquery.dataViewer": _READ, "roles/viewer": _READ,
    "WRITER": _WRITE, "roles/bigquery.dataEditor": _WRITE, "roles/editor": _WRITE,
    "OWNER": _WRITE, "roles/bigquery.dataOwner": _WRITE, "roles/bigquery.admin": _WRITE,
    "roles/owner": _WRITE,
}
#: A dataset access entry's entity type -> the IAM member prefix it stands for.
_ENTITY = {"userByEmail": "user", "groupByEmail": "group", "domain": "domain"}


def _email(member: str) -> str:
    return member.split(":", 1)[-1].lower()


def _matches(principal: str, member: str) -> bool:
    """``serviceAccount:a@b`` matches itself; a bare ``a@b`` matches any kind of member
    with that e-mail (a service account is a ``userByEmail`` in dataset entries)."""
    if member in ("allUsers", "allAuthenticatedUsers"):
        return True
    if ":" in principal and member.split(":", 1)[0] not in ("user", principal.split(":")[0]):
        return False
    return _email(principal) == _email(member)


def revoked_from(principal: str, grantee: str) -> bool:
    """Whether a REVOKE's grantee (``"serviceAccount:a@b"`` as the statement spells it, read
    lower case) names ``principal``: the same e-mail, and the same kind where the principal
    names one."""
    if ":" in principal:
        return principal.lower() == grantee.lower()
    return principal.lower() == _email(grantee)


#: ``_ROLES`` as a REVOKE names them (lower case), for ``Warehouse.ROLE_PRIVILEGES``.
ROLE_PRIVILEGES = {role.lower(): held for role, held in _ROLES.items() if "/" in role}


def _privileges(principal: str, members: Iterable[tuple[str, str]]) -> set[str]:
    out: set[str] = set()
    for role, member in members:
        if _matches(principal, member):
            out |= _ROLES.get(role, frozenset())
    return out


def _dataset_members(dataset: Any) -> list[tuple[str, str]]:
    out = []
    for entry in dataset.access_entries:
        kind, entity = entry.entity_type, entry.entity_id
        if not isinstance(entity, str) or entry.role is None:
            continue  # an authorized view, routine or dataset: not a principal
        if kind == "iamMember" or kind == "specialGroup" and entity == "allAuthenticatedUsers":
            out.append((entry.role, entity))
        elif kind in _ENTITY:
            out.append((entry.role, f"{_ENTITY[kind]}:{entity}"))
    return out


def access(wh: BigQuery, principals: Sequence[str], tables: Sequence[TableRef],
           privileges: Sequence[str]) -> list[AccessGrant]:
    """See :meth:`Warehouse.access`; tables whose policy is not found are absent."""
    client, timeout = wh.executor.client, wh.settings.timeout
    datasets: dict[tuple[str, str], list[tuple[str, str]]] = {}
    out = []
    for ref in dict.fromkeys(tables):
        project, dataset, name = wh._key(ref)
        try:
            policy = client.get_iam_policy(f"{project}.{dataset}.{name}", timeout=timeout,
                                           retry=None)
            if (project, dataset) not in datasets:
                datasets[project, dataset] = _dataset_members(client.get_dataset(
                    f"{project}.{dataset}", timeout=timeout, retry=None))
        except Exception as exc:
            error = wh.call_error(exc, "getIamPolicy", ref)
            if isinstance(error, TableNotFound):
                continue
            raise error from exc
        members = [(b["role"], m) for b in policy.bindings for m in b["members"]]
        members += datasets[project, dataset]
        for principal in dict.fromkeys(principals):
            held = _privileges(principal, members)
            out += [AccessGrant(principal=principal, table=ref, privilege=p,
                                granted=p in held) for p in dict.fromkeys(privileges)]
    return out
