"""Team invitations: a single-use link, shown once, that makes whoever opens it a member with a role.

Owners and admins invite (only owners invite owners, as in `teams.set_member`). The link's token is stored
as a SHA-256 like API tokens; it works for 7 days, once, unless revoked. The invitee joins with an account
they have, or creates one with the link (no site administrator needed).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services import accounts
from api.services.access import Permission, Principal, authorize_team, role_in
from core import crypto
from core.errors import ConfigError, Conflict, Forbidden, NotFound
from core.models import Invitation, Membership, Role, Team, User, utcnow

LIFETIME = timedelta(days=7)
NOTE_LENGTH = 200

_ASK_AGAIN = "ask a team owner or admin for a new link"


def invitation_url(public_url: str, clear: str) -> str:
    """The link to hand the invitee."""
    return f"{public_url.rstrip('/')}/invite/{clear}"


def create_invitation(
    session: Session,
    principal: Principal,
    team: Team,
    *,
    role: Role,
    username: str | None = None,
    note: str | None = None,
) -> tuple[Invitation, str]:
    """A new invitation to `team` as `role`, optionally only for `username`; returns it and its token in
    clear, which is never shown again."""
    mine = authorize_team(session, principal, team, Permission.MANAGE)
    if role is Role.OWNER and mine is not Role.OWNER:
        raise Forbidden(f"only an owner of {team.name!r} can invite an owner; choose admin or a lesser role")
    invitee = _invitee(session, team, username)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LENGTH:
        raise ConfigError(f"must be at most {NOTE_LENGTH} characters", where="note")
    clear = crypto.new_token("dyi")
    invitation = Invitation(
        team=team,
        role=role.value,
        token_hash=crypto.hash_token(clear),
        username=invitee,
        note=note,
        created_by=principal.user,
        expires_at=utcnow() + LIFETIME,
    )
    session.add(invitation)
    session.flush()
    return invitation, clear


def _invitee(session: Session, team: Team, username: str | None) -> str | None:
    """The normalised username an invitation is for; refused when that account is in the team already."""
    name = (username or "").strip().lower()
    if not name:
        return None
    if not accounts.USERNAME.match(name):
        raise ConfigError(
            "use 1-64 lowercase letters, digits, dots, dashes or underscores, or leave it empty for anyone",
            where="username",
        )
    user = session.scalar(select(User).where(User.username == name))
    if user is not None:
        role = role_in(session, user, team)
        if role is not None:
            raise Conflict(
                f"{name!r} is already in {team.name!r} as {role.value}; change their role in the members list"
            )
    return name


def list_invitations(session: Session, principal: Principal, team: Team) -> list[Invitation]:
    """The team's invitations, newest first, whatever their state (owners and admins)."""
    authorize_team(session, principal, team, Permission.MANAGE)
    return list(
        session.scalars(
            select(Invitation).where(Invitation.team_id == team.id).order_by(Invitation.id.desc())
        )
    )


def revoke_invitation(session: Session, principal: Principal, team: Team, invitation_id: int) -> Invitation:
    """Make a pending invitation's link stop working (owners and admins; revoking twice is harmless)."""
    authorize_team(session, principal, team, Permission.MANAGE)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.team_id != team.id:
        raise NotFound(f"no invitation with id {invitation_id} in {team.name!r}; list them to see the ids")
    if invitation.accepted_at is not None:
        raise Conflict(
            "this invitation was accepted already; remove the member from the team instead of revoking it"
        )
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
    return invitation


def find_invitation(session: Session, clear: str) -> Invitation:
    """The invitation behind a link, in whatever state; 404 when the link is not one of ours."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == crypto.hash_token(clear)))
    if invitation is None:
        raise NotFound(f"this invitation link is not valid (mistyped or cut short?); {_ASK_AGAIN}")
    return invitation


def check_usable(invitation: Invitation) -> None:
    """Refuse a link that was used, revoked or has expired, saying which."""
    state = invitation.state()
    if state == "accepted":
        raise Conflict(f"this invitation link was used already; it works once: {_ASK_AGAIN}")
    if state == "revoked":
        raise Conflict(f"this invitation link was revoked by the team; {_ASK_AGAIN}")
    if state == "expired":
        raise Conflict(f"this invitation link expired (links work for 7 days); {_ASK_AGAIN}")


def _check_for(invitation: Invitation, username: str) -> None:
    if invitation.username is not None and invitation.username != username:
        raise Forbidden(
            f"this invitation is for {invitation.username!r}: sign in as {invitation.username!r}, "
            "or ask for a link of your own"
        )


def accept_invitation(session: Session, user: User, clear: str) -> Membership:
    """Use the link: `user` joins the team with the invitation's role, and the link stops working."""
    invitation = find_invitation(session, clear)
    check_usable(invitation)
    _check_for(invitation, user.username)
    role = role_in(session, user, invitation.team)
    if role is not None:
        raise Conflict(
            f"you are already in {invitation.team.name!r} as {role.value}: nothing to join; a team owner can "
            "change your role"
        )
    membership = Membership(team=invitation.team, user=user, role=invitation.role)
    invitation.accepted_at = utcnow()
    invitation.accepted_by = user
    session.add(membership)
    session.flush()
    return membership


def sign_up_with_invitation(session: Session, clear: str, *, username: str, password: str) -> User:
    """Create an account with the link (no administrator needed) and join the team with it."""
    invitation = find_invitation(session, clear)
    check_usable(invitation)
    _check_for(invitation, username.strip().lower())
    user = accounts.create_user(session, username=username, password=password)
    accept_invitation(session, user, clear)
    return user
