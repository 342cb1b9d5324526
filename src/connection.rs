//! One client connection: read, decode, hand whole batches to the broker,
//! write replies. Only this module and `server` touch sockets.

use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::broker::pubsub::ClientOutput;
use crate::broker::{Batch, BatchReply, Message, Push};
use crate::cmd::Session;
use crate::resp::{Decoder, Frame, Limits, Protocol};

/// Settings a connection needs.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Decoder limits.
    pub decode: Limits,
    /// Largest unparsed input held for one client.
    pub query_buffer_limit: usize,
    /// Whether a password is required now (kept by the broker): a
    /// connection made while it is not starts authenticated, and one that
    /// is not authenticated while it is decodes under Redis's limits for
    /// unauthenticated clients.
    pub password_required: Arc<AtomicBool>,
}

/// Why a connection ended abnormally (logged at debug level).
#[derive(Debug)]
pub enum ConnError {
    /// The socket failed.
    Io(std::io::Error),
    /// The broker is gone (server shutting down).
    BrokerGone,
    /// The client was killed (`CLIENT KILL`, output-buffer limits).
    Killed,
    /// The client's input reached the query buffer limit while its replies
    /// could not be written: it sends without reading. Both sides would
    /// wait for each other for good, so it is closed, as Redis closes a
    /// client past the limit.
    QueryBufferFull,
}

impl From<std::io::Error> for ConnError {
    fn from(e: std::io::Error) -> Self {
        ConnError::Io(e)
    }
}

/// Serves one client until it disconnects, misbehaves or the server stops.
/// `session` is the new client's (its id, and whether it starts
/// authenticated: see [`ConnLimits::password_required`]). `pushes` carries
/// out-of-band frames (pub/sub, `MONITOR`) and the output state shared with
/// the broker. The server's stop reaches the connection through the broker,
/// which closes `pushes` when it stops: the connection then ends once
/// nothing it sent is still in flight.
pub async fn serve<S>(
    mut stream: S,
    session: Session,
    broker: mpsc::Sender<Message>,
    pushes: (mpsc::UnboundedReceiver<Push>, Arc<ClientOutput>),
    limits: ConnLimits,
) -> Result<(), ConnError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut push_rx, output) = pushes;
    let mut in_flight = None;
    let id = session.id;
    let result = serve_inner(&mut stream, session, &broker, (&mut push_rx, &output), limits, &mut in_flight).await;
    if let Some(mut rx) = in_flight {
        // Replies that will never be written: refuse any still to come (their
        // sender then gives back what they carry) and give back what one
        // already handed over carries.
        rx.close();
        if let Ok(mut reply) = rx.try_recv()
            && let Some(h) = reply.handback.take()
        {
            h.give_back();
        }
    }
    let _ = broker.send(Message::Disconnect { id }).await;
    linger_close(&mut stream).await;
    result
}

async fn serve_inner<S>(
    stream: &mut S,
    session: Session,
    broker: &mpsc::Sender<Message>,
    (push_rx, output): (&mut mpsc::UnboundedReceiver<Push>, &ClientOutput),
    limits: ConnLimits,
    in_flight: &mut Option<oneshot::Receiver<BatchReply>>,
) -> Result<(), ConnError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Pushes (and park markers) are numbered in arrival order; while a batch
    // is in flight they wait here, so that each lands on the right side of
    // the batch's replies — unless the batch is parked by a blocking command.
    let mut received: u64 = 0;
    let mut held: VecDeque<(u64, Bytes)> = VecDeque::new();
    let mut parked = false;
    let mut decoder = Decoder::new(limits.decode);
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let id = session.id;
    let mut session = Some(Box::new(session));
    let mut protocol_error: Option<String> = None;
    let mut eof = false;
    // Whether the broker was told of `eof` while a batch was parked.
    let mut told_eof = false;
    // The batch in flight ended early (see below): commands may follow it.
    let mut more_to_send = false;
    // Commands the broker handed back unrun (a batch stops once its replies
    // reach a limit): they go again, first, once the replies are written.
    let mut rest: VecDeque<Vec<Bytes>> = VecDeque::new();
    // False once the broker has forgotten this client (after a disconnect):
    // the reply still in flight, if any, is awaited before closing.
    let mut push_open = true;
    // Made once and polled by every write (not re-made per write). A kill
    // also arrives as `Push::Kill`, which ends the loop below.
    let mut killed = std::pin::pin!(output.killed());
    // What a write reads the client's input into while it waits (see `write`).
    macro_rules! input {
        () => {
            Input { buf: &mut buf, eof: &mut eof, limit: limits.query_buffer_limit }
        };
    }
    loop {
        if told_eof && in_flight.is_none() {
            // The broker was told this client is gone (while its batch was
            // parked or held): it runs nothing more for it.
            return Ok(());
        }
        if in_flight.is_none() {
            let mut commands = std::mem::take(&mut rest);
            let resend = !commands.is_empty();
            let authenticated = session.as_ref().is_some_and(|s| s.authenticated);
            let must_authenticate = !authenticated && limits.password_required.load(Ordering::Relaxed);
            decoder.set_unauthenticated(must_authenticate);
            // A batch handed back ended early by its own rule, if at all.
            let mut ended_early = resend && more_to_send;
            while !resend && protocol_error.is_none() {
                match decoder.decode(&mut buf) {
                    Ok(Some(argv)) => {
                        // Redis parses a command only after running the one
                        // before it: a batch of a client that must
                        // authenticate ends after `AUTH` or `HELLO`, and the
                        // commands after it are decoded under the state it
                        // leaves. (Nothing before it can block: it is refused.)
                        ended_early = must_authenticate && may_authenticate(&argv[0]);
                        commands.push_back(argv);
                        if ended_early {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => protocol_error = Some(e.0),
                }
            }
            if !commands.is_empty() {
                // Commands that arrived before the end of input still run and
                // are answered, as Redis does for a client that half-closes.
                let (tx, rx) = oneshot::channel();
                let session = session.take().expect("session is home when nothing is in flight");
                broker
                    .send(Message::Batch(Batch { session, commands, reply: tx }))
                    .await
                    .map_err(|_| ConnError::BrokerGone)?;
                *in_flight = Some(rx);
                // After a batch that ended early, the client is forgotten
                // only once the commands after it have been sent too.
                more_to_send = ended_early;
                if eof && !more_to_send {
                    // The client is gone: a command of this batch that blocks
                    // must not wait for it.
                    let _ = broker.send(Message::Disconnect { id }).await;
                }
            } else if let Some(msg) = protocol_error.take() {
                let proto = session.as_ref().map_or(Protocol::Resp2, |s| s.proto);
                return close_with_error(stream, Frame::error_owned(format!("ERR {msg}")), proto).await;
            } else if eof || !push_open {
                // Input is over, or the broker has forgotten this client:
                // nothing more to run.
                return Ok(());
            }
        }
        if eof && parked && in_flight.is_some() && !told_eof {
            // Like Redis, a closed client is dropped: the broker is told now
            // so that the blocked command stops waiting. (Only once its batch
            // is parked: until then the commands still in `buf` run after
            // the batch in flight, under this client's session — its
            // `WATCH`es, its `CLIENT REPLY` mode — which a disconnect would
            // discard.) The end of input may have been read here or while a
            // write waited.
            told_eof = true;
            let _ = broker.send(Message::Disconnect { id }).await;
        }
        // Input is read ahead of a batch in flight up to 64 KiB, and without
        // bound (but the query buffer limit) while it is parked by a blocking
        // command: a parked client must still be seen closing its socket.
        let want_read = !eof && (in_flight.is_none() || parked || buf.len() < 64 * 1024);
        if buf.capacity() - buf.len() < 4096 {
            let wanted = decoder.bytes_wanted().unwrap_or(0).min(1 << 20);
            buf.reserve(wanted.max(16 * 1024));
        }
        tokio::select! {
            // In this order (no random draw per wait): a reply first, then
            // input, then pushes — last, as a stream of pushes must not keep
            // a subscriber's own commands (UNSUBSCRIBE) from being read.
            biased;
            reply = async { in_flight.as_mut().expect("guarded").await }, if in_flight.is_some() => {
                *in_flight = None;
                let mut reply = match reply {
                    Ok(reply) => reply,
                    // The broker dropped the wait of a client that hung up.
                    Err(_) if eof => return Ok(()),
                    Err(_) => return Err(ConnError::BrokerGone),
                };
                parked = false;
                while received < reply.pushes_before {
                    match push_rx.try_recv() {
                        Ok(Push::Data(data)) => {
                            received += 1;
                            held.push_back((received, data));
                        }
                        Ok(Push::Parked | Push::Resumed) => received += 1,
                        Ok(Push::Kill) | Err(mpsc::error::TryRecvError::Disconnected) => {
                            // Killed before the reply was written: what it
                            // handed the client goes back.
                            if let Some(h) = reply.handback.take() {
                                h.give_back();
                            }
                            return Ok(());
                        }
                        Err(mpsc::error::TryRecvError::Empty) => break,
                    }
                }
                let mut pushed = 0;
                let out = if held.is_empty() {
                    // The usual case: the replies alone, written as they are.
                    std::mem::take(&mut reply.out)
                } else {
                    let mut out = BytesMut::new();
                    while held.front().is_some_and(|(seq, _)| *seq <= reply.pushes_before) {
                        let (_, data) = held.pop_front().expect("checked");
                        pushed += data.len();
                        out.extend_from_slice(&data);
                    }
                    out.extend_from_slice(&reply.out);
                    for (_, data) in held.drain(..) {
                        pushed += data.len();
                        out.extend_from_slice(&data);
                    }
                    out
                };
                if !out.is_empty() {
                    if let Err(e) = write(stream, &out, input!(), killed.as_mut()).await {
                        // The client is gone: what it was handed goes back.
                        if let Some(h) = reply.handback.take() {
                            h.give_back();
                        }
                        return Err(e);
                    }
                    output.written(pushed);
                }
                rest = std::mem::take(&mut reply.rest);
                let close = reply.session.close;
                session = Some(reply.session);
                if close {
                    return Ok(());
                }
            }
            r = stream.read_buf(&mut buf), if want_read && !eof => {
                if r? == 0 {
                    eof = true;
                } else if buf.len() > limits.query_buffer_limit {
                    let err = Frame::error("ERR Protocol error: client query buffer limit exceeded");
                    return close_with_error(stream, err, Protocol::Resp2).await;
                }
            }
            push = push_rx.recv(), if push_open => {
                match push {
                    Some(Push::Data(data)) => {
                        received += 1;
                        if in_flight.is_some() && !parked {
                            held.push_back((received, data));
                        } else {
                            write(stream, &data, input!(), killed.as_mut()).await?;
                            output.written(data.len());
                        }
                    }
                    Some(Push::Parked) => {
                        // A blocked command may wait long: let pushes through.
                        received += 1;
                        parked = true;
                        let mut pushed = 0;
                        let mut out = BytesMut::new();
                        for (_, data) in held.drain(..) {
                            pushed += data.len();
                            out.extend_from_slice(&data);
                        }
                        if !out.is_empty() {
                            write(stream, &out, input!(), killed.as_mut()).await?;
                            output.written(pushed);
                        }
                    }
                    Some(Push::Resumed) => {
                        // The parked batch was served: its reply goes first.
                        received += 1;
                        parked = false;
                    }
                    // After a disconnect the broker forgets the client, which
                    // closes this channel; the reply in flight is still written.
                    None if in_flight.is_some() => push_open = false,
                    Some(Push::Kill) if parked && in_flight.is_some() => {
                        // Killed while its batch waits: the broker ends the
                        // wait and answers what the batch ran before it (Redis
                        // had sent those replies already), then the loop ends
                        // once they are written (a write that would block is
                        // not waited for: the kill switch stops it).
                        if !told_eof {
                            told_eof = true;
                            let _ = broker.send(Message::Disconnect { id }).await;
                        }
                    }
                    Some(Push::Kill) | None => {
                        // Pushes sent before the kill (a refusal's error) still go out.
                        let out: Vec<u8> = held.drain(..).flat_map(|(_, d)| d.to_vec()).collect();
                        if !out.is_empty() {
                            write(stream, &out, input!(), killed.as_mut()).await?;
                        }
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// Whether a command named `name` may authenticate its connection (`AUTH`,
/// `HELLO ... AUTH`).
fn may_authenticate(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"auth") || name.eq_ignore_ascii_case(b"hello")
}

/// Writes a final error; the caller then closes with [`linger_close`].
async fn close_with_error<S>(stream: &mut S, err: Frame, proto: Protocol) -> Result<(), ConnError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    /// A client that does not read even its final error is not waited
    /// for longer than this (nothing else would end the wait, not even
    /// `CLIENT KILL`).
    const FINAL_WRITE: std::time::Duration = std::time::Duration::from_secs(10);
    let mut out = BytesMut::new();
    err.encode(proto, &mut out);
    match tokio::time::timeout(FINAL_WRITE, stream.write_all(&out)).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()),
    }
}

/// Closes gracefully: the write side is shut down first and what the client
/// is still sending is read and discarded for a short while, so the client
/// reads everything written to it (a final error, say) instead of a
/// connection reset — closing a socket with unread input resets it.
async fn linger_close<S>(stream: &mut S)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    const LINGER: std::time::Duration = std::time::Duration::from_millis(500);
    const MAX_DISCARD: usize = 64 * 1024 * 1024;
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut scratch = vec![0u8; 16 * 1024];
    let mut discarded = 0;
    let drain = async {
        while discarded < MAX_DISCARD {
            match stream.read(&mut scratch).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// The client's input as a write may add to it: the buffer, whether the
/// client has closed its side, and how much the buffer may hold.
struct Input<'a> {
    buf: &'a mut BytesMut,
    eof: &'a mut bool,
    limit: usize,
}

/// Writes `data`, giving up as soon as the client is killed (a client that
/// never reads must not keep its connection task stuck in a write).
///
/// While the client does not take the data (its socket is full), the
/// client's input keeps being read into `input`, up to its limit, as Redis
/// reads a client's queries while its replies wait: a client that writes a
/// whole pipeline before it reads a reply (as the `redis` crate's pipelines
/// do) would otherwise block in its write while this task blocks in its
/// own, for good.
async fn write<S>(
    stream: &mut S,
    data: &[u8],
    input: Input<'_>,
    mut killed: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> Result<(), ConnError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use std::task::Poll;
    let Input { buf, eof, limit } = input;
    let mut written = 0;
    std::future::poll_fn(|cx| {
        while written < data.len() {
            match std::pin::Pin::new(&mut *stream).poll_write(cx, &data[written..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into()));
                }
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => break,
            }
        }
        if written == data.len() {
            return Poll::Ready(Ok(()));
        }
        // A write that completes at once never polls the kill switch.
        if killed.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(ConnError::Killed));
        }
        // Until it is pending, so that new input wakes this task too.
        while !*eof && buf.len() < limit {
            if buf.capacity() - buf.len() < 4096 {
                buf.reserve(16 * 1024);
            }
            let read = std::pin::pin!(stream.read_buf(&mut *buf));
            match read.poll(cx) {
                Poll::Ready(Ok(0)) => *eof = true,
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => break,
            }
        }
        if buf.len() >= limit {
            tracing::warn!(limit, "closing a client that fills the query buffer limit without reading its replies");
            return Poll::Ready(Err(ConnError::QueryBufferFull));
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::HandBack;
    use crate::state::Effect;
    use tokio::io::DuplexStream;

    /// A connection task serving client 7 over an in-memory stream, with
    /// this test as its broker.
    struct Conn {
        client: DuplexStream,
        broker_rx: mpsc::Receiver<Message>,
        push_tx: mpsc::UnboundedSender<Push>,
        conn: tokio::task::JoinHandle<Result<(), ConnError>>,
    }

    fn start_conn() -> Conn {
        let (client, server) = tokio::io::duplex(1024);
        let (broker_tx, broker_rx) = mpsc::channel(8);
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        let limits = ConnLimits {
            decode: Limits::default(),
            query_buffer_limit: 1 << 20,
            password_required: Default::default(),
        };
        let session = Session { id: 7, ..Session::default() };
        let output = (push_rx, ClientOutput::new());
        let conn = tokio::spawn(serve(server, session, broker_tx, output, limits));
        Conn { client, broker_rx, push_tx, conn }
    }

    #[tokio::test]
    async fn a_reply_that_cannot_be_written_gives_back_what_it_carried() {
        let Conn { client, mut broker_rx, push_tx, conn } = start_conn();
        let mut client = client;
        client.write_all(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n").await.unwrap();
        let Some(Message::Batch(batch)) = broker_rx.recv().await else { panic!("expected the batch") };
        push_tx.send(Push::Parked).unwrap();
        // The client goes away while its command waits.
        drop(client);
        let Some(Message::Disconnect { id: 7 }) = broker_rx.recv().await else { panic!("expected a disconnect") };
        // The broker had already served it: the reply carries the element.
        let (reply, effect, mut returns_rx) = reply_handing_over_a(batch.session, 0);
        batch.reply.send(reply).unwrap();
        assert!(conn.await.unwrap().is_err(), "the write fails");
        assert_eq!(returns_rx.recv().await.map(|r| r.effects), Some(vec![effect]));
    }

    /// A reply to `BLPOP q 0` that hands over `a`, counting `pushes_before`
    /// pushes before it; the effect that gives `a` back, and where it goes.
    fn reply_handing_over_a(
        session: Box<Session>,
        pushes_before: u64,
    ) -> (BatchReply, Effect, mpsc::UnboundedReceiver<crate::broker::Returned>) {
        let (returns_tx, returns_rx) = mpsc::unbounded_channel();
        let effect = Effect::ListPush { db: 0, key: Bytes::from("q"), left: true, items: vec![Bytes::from("a")] };
        let reply = BatchReply {
            session,
            out: BytesMut::from(&b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"[..]),
            replies: 1,
            writes: 1,
            handback: Some(HandBack::new(1, vec![effect.clone()], returns_tx)),
            pushes_before,
            rest: VecDeque::new(),
        };
        (reply, effect, returns_rx)
    }

    /// Found by review: a client killed (`CLIENT KILL`) after its blocking
    /// pop was served but before the reply was written lost the element.
    #[tokio::test]
    async fn a_reply_to_a_killed_client_gives_back_what_it_carried() {
        let Conn { mut client, mut broker_rx, push_tx, conn } = start_conn();
        client.write_all(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n").await.unwrap();
        let Some(Message::Batch(batch)) = broker_rx.recv().await else { panic!("expected the batch") };
        // The kill is sent before the reply; the reply counts it among the
        // pushes before it.
        push_tx.send(Push::Kill).unwrap();
        let (reply, effect, mut returns_rx) = reply_handing_over_a(batch.session, 1);
        batch.reply.send(reply).unwrap();
        let _ = conn.await.unwrap();
        assert_eq!(returns_rx.recv().await.map(|r| r.effects), Some(vec![effect]));
    }

    #[tokio::test]
    async fn commands_handed_back_go_again_first_and_every_reply_reaches_a_half_closed_client() {
        let Conn { client, mut broker_rx, push_tx: _push_tx, conn } = start_conn();
        let (mut rd, mut wr) = tokio::io::split(client);
        wr.write_all(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n").await.unwrap();
        wr.shutdown().await.unwrap();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            rd.read_to_end(&mut got).await.unwrap();
            got
        });
        let Some(Message::Batch(mut batch)) = broker_rx.recv().await else { panic!("expected the batch") };
        assert_eq!(batch.commands.len(), 2);
        // One read-only reply to `session`, and the commands handed back.
        let reply = |session, out: &[u8], rest| BatchReply {
            session,
            out: BytesMut::from(out),
            replies: 1,
            writes: 0,
            handback: None,
            pushes_before: 0,
            rest,
        };
        // The broker ran the first command only and hands the other back.
        let rest = batch.commands.split_off(1);
        batch.reply.send(reply(batch.session, b"+PONG\r\n", rest)).unwrap();
        let Some(Message::Batch(again)) = broker_rx.recv().await else { panic!("expected the rest") };
        assert_eq!(Vec::from(again.commands.clone()), [vec![Bytes::from("ECHO"), Bytes::from("a")]]);
        // The end of input is told once the last commands are sent, not
        // before (they run under the session a disconnect would discard).
        let Some(Message::Disconnect { id: 7 }) = broker_rx.recv().await else { panic!("expected a disconnect") };
        again.reply.send(reply(again.session, b"$1\r\na\r\n", VecDeque::new())).unwrap();
        assert_eq!(reader.await.unwrap(), b"+PONG\r\n$1\r\na\r\n");
        assert!(conn.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_half_closed_client_still_gets_the_reply_in_flight_after_the_broker_forgets_it() {
        let Conn { client, mut broker_rx, push_tx, conn } = start_conn();
        let (mut rd, mut wr) = tokio::io::split(client);
        wr.write_all(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n").await.unwrap();
        wr.shutdown().await.unwrap();
        let Some(Message::Batch(batch)) = broker_rx.recv().await else { panic!("expected the batch") };
        // Parked: only now does the end of input tell the broker.
        push_tx.send(Push::Parked).unwrap();
        let Some(Message::Disconnect { id: 7 }) = broker_rx.recv().await else { panic!("expected a disconnect") };
        // The broker had served the client before it saw the disconnect,
        // then forgot the client.
        drop(push_tx);
        tokio::task::yield_now().await;
        let reply = BatchReply {
            session: batch.session,
            out: BytesMut::from(&b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"[..]),
            replies: 1,
            writes: 1,
            handback: None,
            pushes_before: 0,
            rest: VecDeque::new(),
        };
        batch.reply.send(reply).expect("the connection still waits for its reply");
        let mut got = Vec::new();
        rd.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"*2\r\n$1\r\nq\r\n$1\r\na\r\n");
        assert!(conn.await.unwrap().is_ok());
    }
}
