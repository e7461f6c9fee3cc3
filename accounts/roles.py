"""The staff roles of the national body: Django groups, each with the least rights its job needs.

The code is the reference: a migration creates the groups, and every `migrate` brings their
rights back to what is written here (a right added by hand in the admin does not survive).
Permissions are named "app_label.codename" strings, so that this module imports no app."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


def views(*models: str) -> list[str]:
    return [f"{model.split('.')[0]}.view_{model.split('.')[1]}" for model in models]


CATALOGUE = views("prestations.prestation", "prestations.bracket", "prestations.documentkind",
                  "prestations.letterwording", "prestations.prestationdelays", "prestations.loanproduct")
PEOPLE = views("accounts.agent", "accounts.familymember")
STRUCTURES = views("adhesions.region", "adhesions.adherent", "adhesions.adhesion")
# what agents, correspondents and COS write from the contact page, read by the staff of their delegation
CONTACT = views("adhesions.contactmessage")


@dataclass(frozen=True)
class Role:
    code: str
    name: str  # the group's name
    description: str
    permissions: tuple[str, ...]


ROLES = [
    Role("instructeur", "Instructeur",
         _("Instruit les demandes de sa délégation : prendre, accepter, refuser, demander des pièces, écrire."),
         (
             "prestations.view_demande", "prestations.instruct_demande", "prestations.view_demandedocument",
             "prestations.view_demandeevent", *CATALOGUE, *PEOPLE, "accounts.view_taxdeclaration", *STRUCTURES,
             *views("adhesions.employment", "adhesions.coverage", "cos.cosmember"), *CONTACT,
         )),
    Role("comptable", "Comptable",
         _("Paiements, relevés bancaires, lots SEPA, appels de cotisation, barèmes et campagne."),
         (
             *views("adhesions.payment", "adhesions.bankstatement", "adhesions.contributioncall",
                    "adhesions.contributionscale", "adhesions.campaign", "adhesions.campaignchunk",
                    "adhesions.reminder", "adhesions.payrolldeclaration", "prestations.paymentbatch",
                    "prestations.demande"),
             "adhesions.add_payment", "adhesions.add_bankstatement", "adhesions.regularise_contributioncall",
             "adhesions.add_contributionscale", "adhesions.change_contributionscale", "adhesions.run_campaign",
             "prestations.prepare_paymentbatch", "prestations.confirm_paymentbatch", *STRUCTURES,
         )),
    Role("gestionnaire", "Gestionnaire des adhérents",
         _("Adhérents, adhésions, corrections d'effectif, demandes d'adhésion, COS et leurs employeurs servis."),
         (
             *STRUCTURES, "adhesions.add_adherent", "adhesions.change_adherent", "adhesions.add_adhesion",
             "adhesions.manage_adhesion",
             *views("adhesions.manager", "adhesions.employment", "adhesions.coverage", "adhesions.basisperiod",
                    "adhesions.rosterimport", "adhesions.invitation", "adhesions.payrolldeclaration",
                    "adhesions.membershipapplication", "cos.cosemployer", "cos.cossettings", "cos.convention",
                    "cos.cosmember", "cos.memberfee", "cos.localaction"),
             "adhesions.add_manager", "adhesions.delete_manager", "adhesions.correct_employment",
             "adhesions.add_payrolldeclaration", "adhesions.change_membershipapplication",
             "adhesions.decide_membershipapplication", "cos.add_cosemployer", "cos.delete_cosemployer",
             "cos.change_cossettings", *PEOPLE, *CONTACT,
         )),
    Role("superviseur", "Superviseur",
         _("Toutes les délégations, les indicateurs, le journal d'audit et les travaux asynchrones (il relance "
           "ceux qui ont été abandonnés), les textes des lettres de décision et l'accueil des délégations ; "
           "lecture seule ailleurs."),
         ("cnas.view_auditentry", "cnas.view_indicators", "cnas.view_outboxitem", "cnas.view_heartbeat",
          "cnas.retry_outboxitem", "prestations.add_letterwording", "prestations.change_letterwording",
          "adhesions.change_region")),  # and every view_ right, added below
    Role("travailleur_social", "Travailleur social",
         _("Accompagne les agents en difficulté de sa délégation : demandes, foyers, avis sur les secours."),
         ("prestations.view_demande", "prestations.instruct_demande", "prestations.view_demandedocument",
                "prestations.view_demandeevent", *CATALOGUE, *PEOPLE, "accounts.view_taxdeclaration",
                *STRUCTURES, *CONTACT)),
    Role("administrateur", "Administrateur",
         _("Comptes de l'équipe et rôles. Ne voit que les comptes, pas les dossiers."),
         ("accounts.view_user", "accounts.add_user", "accounts.change_user", "accounts.manage_staff",
                "accounts.view_staffprofile", "auth.view_group", "adhesions.view_region")),
]
ROLES_BY_NAME = {role.name: role for role in ROLES}
# The superviseur reads everything of the portal's own apps (never users, groups, e-mails or secrets).
READ_ALL_APPS = ("accounts", "adhesions", "cos", "prestations")
NOT_READ_BY_SUPERVISOR = {"accounts.view_user", "accounts.view_staffprofile"}


def sync_roles(apps=None, *, strict: bool = True) -> dict[str, int]:
    """Create or update every role's group with exactly its rights; return {group: rights}.
    A migration passes ``strict=False``: rights of models it does not know yet are added by the
    sync that runs after every ``migrate`` (strict: an unknown right is a mistake here)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in apps.get_app_configs():  # the rights of every model, even in a migration
        stub = getattr(app_config, "models_module", None) is None
        if stub:
            app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        if stub:
            app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    by_key = {f"{app}.{codename}": pk for pk, app, codename in
              Permission.objects.values_list("pk", "content_type__app_label", "codename")}
    result = {}
    for role in ROLES:
        wanted = set(role.permissions)
        if role.code == "superviseur":
            wanted |= {key for key in by_key if key.split(".")[1].startswith("view_")
                       and key.split(".")[0] in READ_ALL_APPS} - NOT_READ_BY_SUPERVISOR
        missing = wanted - set(by_key)
        if missing and strict:
            raise LookupError(f"Unknown permissions for the role {role.name}: {sorted(missing)}")
        wanted -= missing
        group, _created = Group.objects.get_or_create(name=role.name)
        group.permissions.set([by_key[key] for key in wanted])
        result[role.name] = len(wanted)
    return result


def sync_roles_after_migrate(sender, **kwargs) -> None:
    """post_migrate: the groups' rights are what this module says, after every migrate."""
    sync_roles(strict=True)
