"""Users: first-run creation of the site administrator, argon2 passwords, and signing in."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services import web_sessions
from api.services.access import Principal, require_site_admin
from core.errors import ConfigError, Conflict, NotFound, Unauthorized
from core.models import Membership, Role, Team, User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 10
FIRST_TEAM = "main"

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost


def hash_password(password: str) -> str:
    """The argon2id hash to store."""
    return _hasher.hash(password)


def _checked(username: str, password: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise ConfigError(
            "use 1-64 lowercase letters, digits, dots, dashes or underscores; start with a letter or digit",
            where="username",
        )
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"must be at least {MIN_PASSWORD} characters", where="password")
    return name


def setup_needed(session: Session) -> bool:
    """True until someone has created the site administrator with a password (first run)."""
    return session.scalar(select(User.id).where(User.is_admin, User.password_hash.is_not(None))) is None


def create_first_admin(session: Session, *, username: str, password: str) -> User:
    """First run: the site administrator, owner of the first team; refused once one exists."""
    if not setup_needed(session):
        raise Conflict(
            "this Dockyard already has an administrator: sign in instead, or ask them for an account"
        )
    name = _checked(username, password)
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        user = User(username=name)
        session.add(user)
    user.is_admin = True
    user.password_hash = hash_password(password)
    team = session.scalar(select(Team).order_by(Team.id)) or Team(name=FIRST_TEAM)
    session.add(team)
    session.flush()
    if not any(membership.team_id == team.id for membership in user.memberships):
        session.add(Membership(team=team, user=user, role=Role.OWNER.value))
    session.flush()
    return user


def ensure_site_admin(session: Session) -> User:
    """The site administrator for host-side commands (`dockyard token create`), created without a password
    on a brand-new install so the first-run page can still give it one."""
    admin = session.scalar(select(User).where(User.is_admin).order_by(User.id))
    if admin is not None:
        return admin
    admin = User(username="admin", is_admin=True)
    team = session.scalar(select(Team).order_by(Team.id)) or Team(name=FIRST_TEAM)
    session.add_all([admin, team, Membership(team=team, user=admin, role=Role.OWNER.value)])
    session.flush()
    return admin


def create_user(session: Session, *, username: str, password: str, is_admin: bool = False) -> User:
    """A new account (the site administrator adds people, then puts them in teams)."""
    name = _checked(username, password)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"a user named {name!r} exists already")
    user = User(username=name, password_hash=hash_password(password), is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def sign_in(session: Session, *, username: str, password: str) -> User:
    """The user whose password this is; one vague 401 for a wrong name or password."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    wrong = Unauthorized("wrong username or password")
    if user is None or user.password_hash is None:
        _hasher.hash(password)  # the same work as a real check, so timing does not reveal names
        raise wrong
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as error:
        raise wrong from error
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(session: Session, user: User, *, current: str, new: str) -> None:
    """Replace the user's password after checking the current one; every web session of theirs ends (a
    browser that had the old password is signed out), API tokens stay."""
    if user.password_hash is not None:
        try:
            _hasher.verify(user.password_hash, current)
        except (VerificationError, InvalidHashError) as error:
            raise Unauthorized("the current password is wrong") from error
    _checked(user.username, new)
    user.password_hash = hash_password(new)
    web_sessions.end_all_sessions(session, user)


def get_user(session: Session, username: str) -> User:
    """A user by name; 404 with where to look when there is none."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"no user named {username!r}; the site administrator creates accounts")
    return user


def all_users(session: Session, principal: Principal) -> list[User]:
    """Every account, by username (site administrator only)."""
    require_site_admin(principal)
    return list(session.scalars(select(User).order_by(User.username)))


def delete_user(session: Session, principal: Principal, username: str) -> None:
    """Delete an account with its tokens and sessions (site administrator only; not their own)."""
    require_site_admin(principal)
    user = get_user(session, username)
    if user.id == principal.user.id:
        raise Conflict("you cannot delete your own account; another administrator can")
    session.delete(user)
