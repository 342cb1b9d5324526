//! Password authentication of the `default` user (`requirepass`): the
//! `AUTH` command, the checks `HELLO ... AUTH` shares with it, and the
//! rule the call pipeline applies before running anything else
//! ([`auth_required`]). There are no ACL users: `default` is the only one.
//!
//! Authentication is never persisted: it changes the session only.

use bytes::Bytes;
use std::sync::atomic::Ordering;

use super::{Args, CmdResult, Command, Ctx, SYNTAX, ServerState, Session, flags::*};
use crate::command;
use crate::resp::Frame;
use crate::resp::frame::OK;

/// The authentication command family.
pub static COMMANDS: &[Command] = &[command!(
    "auth",
    -2,
    FAST | LOADING | STALE | NO_AUTH,
    0,
    0,
    0,
    "connection",
    "AUTH [username] password — authenticate the connection (the only user is `default`)",
    auth
)];

/// The reply to a command refused because the connection is not authenticated.
pub const NOAUTH: Frame = Frame::error("NOAUTH Authentication required.");

/// The reply to wrong credentials (`AUTH`, `HELLO ... AUTH`).
pub const WRONGPASS: Frame = Frame::error("WRONGPASS invalid username-password pair or user is disabled.");

/// The reply to `HELLO` (without a successful `AUTH` option) on a
/// connection that is not authenticated.
pub const HELLO_NOAUTH: Frame = Frame::error(
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> \
     option can be used to authenticate the client and select the RESP protocol version at the same time",
);

/// The reply to the one-argument `AUTH` while no password is configured.
pub const NO_PASSWORD_CONFIGURED: Frame = Frame::error(
    "ERR AUTH <password> called without any password configured for the default user. Are you sure your \
     configuration is correct?",
);

/// Whether `session` must authenticate before running a command that is
/// not flagged [`NO_AUTH`]: a password is configured and the connection has
/// not been authenticated (Redis's `authRequired`).
pub fn auth_required(session: &Session, server: &ServerState) -> bool {
    !server.config.requirepass.is_empty() && !session.authenticated
}

/// Checks `user`/`password` and, if they are right, authenticates the
/// session. Wrong credentials leave the session as it was (an
/// authenticated connection stays authenticated). With no password
/// configured, `default` accepts any password.
pub fn authenticate(ctx: &mut Ctx, user: &[u8], password: &[u8]) -> bool {
    let required = &ctx.server.config.requirepass;
    let user_ok = user == b"default";
    // Compared whatever the user name, so a wrong name takes as long as a
    // wrong password.
    let password_ok = required.is_empty() | password_matches(&required.0, password);
    let ok = user_ok & password_ok;
    if ok {
        ctx.session.authenticated = true;
    }
    ok
}

/// Whether `given` equals `expected`, in a time that does not depend on
/// where they differ (only on the longer length): every position is
/// compared and the differences are accumulated without branching on them.
pub fn password_matches(expected: &[u8], given: &[u8]) -> bool {
    let n = expected.len().max(given.len());
    let mut diff = (expected.len() ^ given.len()) as u64;
    for i in 0..n {
        let a = expected.get(i).copied().unwrap_or(0);
        let b = given.get(i).copied().unwrap_or(0);
        diff |= u64::from(a ^ b);
        diff = std::hint::black_box(diff);
    }
    diff == 0
}

/// Sets the `default` user's password (`CONFIG SET requirepass`; empty:
/// none). Connections keep their authentication state: one made while no
/// password was required stays authenticated, as in Redis.
pub fn set_password(server: &mut ServerState, password: Bytes) {
    server.config.requirepass = crate::config::Secret(password.to_vec());
    server.password_required.store(!password.is_empty(), Ordering::Relaxed);
}

/// `RESET`'s part: the connection is authenticated again only if no
/// password is required.
pub fn reset(session: &mut Session, server: &ServerState) {
    session.authenticated = server.config.requirepass.is_empty();
}

/// `AUTH [username] password`
fn auth(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let n = args.remaining();
    if n > 2 {
        return Err(SYNTAX);
    }
    // Hidden from MONITOR and SLOWLOG, whatever the outcome.
    ctx.redacted.extend(1..=n);
    let (user, password): (&[u8], &Bytes) = if n == 1 {
        if ctx.server.config.requirepass.is_empty() {
            return Err(NO_PASSWORD_CONFIGURED);
        }
        (b"default", args.next_bytes()?)
    } else {
        (args.next_bytes()?, args.next_bytes()?)
    };
    if authenticate(ctx, user, password) { Ok(OK) } else { Err(WRONGPASS) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::Harness;

    fn with_password(pw: &str) -> Harness {
        let mut h = Harness::new();
        set_password(&mut h.server, Bytes::copy_from_slice(pw.as_bytes()));
        h
    }

    #[test]
    fn comparison() {
        assert!(password_matches(b"sekret", b"sekret"));
        assert!(password_matches(b"", b""));
        for wrong in [&b"sekreT"[..], b"sekre", b"sekrets", b"", b"Sekret", b"sekret\0"] {
            assert!(!password_matches(b"sekret", wrong), "{wrong:?}");
        }
    }

    #[test]
    fn auth_arguments_and_replies() {
        let mut h = with_password("sekret");
        assert_eq!(h.run_args(&["AUTH"]), crate::cmd::wrong_arity("auth"));
        assert_eq!(h.run_args(&["AUTH", "a", "b", "c"]), SYNTAX);
        assert_eq!(h.run_args(&["AUTH", "wrong"]), WRONGPASS);
        assert_eq!(h.run_args(&["AUTH", "other", "sekret"]), WRONGPASS);
        // User names are case-sensitive.
        assert_eq!(h.run_args(&["AUTH", "DEFAULT", "sekret"]), WRONGPASS);
        assert!(!h.session.authenticated);
        assert_eq!(h.run_args(&["auth", "sekret"]), OK);
        assert!(h.session.authenticated);
        // A failed attempt does not undo an earlier success.
        assert_eq!(h.run_args(&["AUTH", "default", "wrong"]), WRONGPASS);
        assert!(h.session.authenticated);
        h.session.authenticated = false;
        assert_eq!(h.run_args(&["AUTH", "default", "sekret"]), OK);
        assert!(h.session.authenticated);
    }

    #[test]
    fn auth_without_a_password() {
        let mut h = Harness::new();
        assert_eq!(h.run_args(&["AUTH", "x"]), NO_PASSWORD_CONFIGURED);
        assert_eq!(h.run_args(&["AUTH", "default", "anything"]), OK);
        assert_eq!(h.run_args(&["AUTH", "someone", "anything"]), WRONGPASS);
        assert_eq!(h.run_args(&["AUTH", "a", "b", "c"]), SYNTAX);
    }

    /// `HELLO` runs its options in order, as Redis 7.0 does.
    #[test]
    fn hello_options_take_effect_in_order() {
        use crate::resp::Protocol;
        let mut h = with_password("pw");
        assert_eq!(h.run_args(&["HELLO", "3", "SETNAME", "a"]), HELLO_NOAUTH);
        assert_eq!(h.session.name.as_deref(), Some(&b"a"[..]), "named before the NOAUTH");
        assert_eq!(h.session.proto, Protocol::Resp2);
        assert_eq!(h.run_args(&["HELLO", "3", "SETNAME", "b", "AUTH", "default", "no"]), WRONGPASS);
        assert_eq!(h.session.name.as_deref(), Some(&b"b"[..]));
        assert_eq!(h.run_args(&["HELLO", "3", "AUTH", "default", "pw", "AUTH", "default", "no"]), WRONGPASS);
        assert!(h.session.authenticated, "the first AUTH option succeeded");
        assert_eq!(h.session.proto, Protocol::Resp2);
        h.session.authenticated = false;
        assert!(matches!(h.run_args(&["HELLO", "3", "AUTH", "default", "pw"]), Frame::Map(_)));
        assert_eq!(h.session.proto, Protocol::Resp3);
        assert!(h.session.authenticated);
        assert_eq!(h.redacted_by(&["HELLO", "3", "SETNAME", "AUTH", "AUTH", "default", "pw"]), [5, 6]);
        assert_eq!(h.redacted_by(&["HELLO", "3", "AUTH", "x", "y", "AUTH", "default", "pw"]), [3, 4]);
        assert_eq!(h.redacted_by(&["HELLO", "x", "AUTH", "default", "pw"]), [0usize; 0]);
        assert_eq!(h.redacted_by(&["AUTH", "pw"]), [1]);
        assert_eq!(h.redacted_by(&["AUTH", "default", "pw"]), [1, 2]);
        assert_eq!(h.redacted_by(&["AUTH", "a", "b", "c"]), [0usize; 0]);
    }

    #[test]
    fn password_setting_and_reset() {
        let mut h = with_password("pw");
        assert!(h.server.password_required.load(Ordering::Relaxed));
        assert!(auth_required(&h.session, &h.server));
        reset(&mut h.session, &h.server);
        assert!(!h.session.authenticated);
        set_password(&mut h.server, Bytes::new());
        assert!(!h.server.password_required.load(Ordering::Relaxed));
        assert!(!auth_required(&h.session, &h.server), "no password: everyone passes");
        reset(&mut h.session, &h.server);
        assert!(h.session.authenticated);
        set_password(&mut h.server, Bytes::from_static(b"pw"));
        assert!(!auth_required(&h.session, &h.server), "authenticated while there was no password");
    }
}
