"""The models of member structures, rosters, contributions and payments, by sub-domain."""

from adhesions.models.contact import ContactMessage
from adhesions.models.contributions import (
    MONEY,
    Campaign,
    CampaignChunk,
    ContributionCall,
    ContributionCallQuerySet,
    ContributionScale,
    upload_to_calls,
)
from adhesions.models.payments import BankStatement, Payment, Reminder, upload_to_statements
from adhesions.models.roster import (
    BasisPeriod,
    Coverage,
    CoverageQuerySet,
    Employment,
    EmploymentQuerySet,
    Invitation,
    PayrollDeclaration,
    PayrollDeclarationQuerySet,
    RosterImport,
    upload_to_rosters,
)
from adhesions.models.structures import (
    Adherent,
    AdherentCategory,
    AdherentKind,
    AdherentQuerySet,
    Adhesion,
    AdhesionQuerySet,
    Manager,
    MembershipApplication,
    Region,
    check_manager_role,
    upload_to_deliberations,
)

__all__ = [
    "MONEY", "Adherent", "AdherentCategory", "AdherentKind", "AdherentQuerySet", "Adhesion", "AdhesionQuerySet",
    "BankStatement", "BasisPeriod", "Campaign", "CampaignChunk", "ContactMessage", "ContributionCall",
    "ContributionCallQuerySet",
    "ContributionScale", "Coverage", "CoverageQuerySet", "Employment", "EmploymentQuerySet", "Invitation",
    "Manager", "MembershipApplication", "Payment", "PayrollDeclaration", "PayrollDeclarationQuerySet", "Region",
    "Reminder", "RosterImport", "check_manager_role", "upload_to_calls", "upload_to_deliberations",
    "upload_to_rosters", "upload_to_statements",
]
