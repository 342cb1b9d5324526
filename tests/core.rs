//! Core server: connection handling, pipelining, protocol errors.

use crate::common::*;

#[test]
fn ping_set_get_over_the_socket() -> TestResult {
    let srv = TestServer::start();
    let mut c = srv.client();
    let pong: String = redis::cmd("PING").query(&mut c)?;
    assert_eq!(pong, "PONG");
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c)?;
    let v: String = redis::cmd("GET").arg("k").query(&mut c)?;
    assert_eq!(v, "v");
    Ok(())
}
