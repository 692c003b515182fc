"""Texts the router itself shows (handlers keep theirs next to their code)."""

from storage.errors import N_

ONBOARDING = N_(
    "This is pocnet, the messaging service of the OAS network of National Points of Contact on "
    "Transnational Organized Crime. Access is by invitation only: if you have an invitation code, "
    "send /start followed by the code."
)
DEACTIVATED = N_("Your access to pocnet has been deactivated. Please contact the OAS Secretariat.")
