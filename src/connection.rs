//! One client connection: read, decode, hand whole batches to the broker,
//! write replies. Only this module and `server` touch sockets.

use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};

use crate::broker::pubsub::ClientOutput;
use crate::broker::{Batch, BatchReply, Message, Push};
use crate::cmd::Session;
use crate::resp::{Decoder, Frame, Limits, Protocol};

/// Settings a connection needs.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Decoder limits.
    pub decode: Limits,
    /// Largest unparsed input held for one client.
    pub query_buffer_limit: usize,
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
}

impl From<std::io::Error> for ConnError {
    fn from(e: std::io::Error) -> Self {
        ConnError::Io(e)
    }
}

/// Serves one client until it disconnects, misbehaves or the server stops.
/// `pushes` carries out-of-band frames (pub/sub, `MONITOR`) and the output
/// state shared with the broker.
pub async fn serve<S>(
    mut stream: S,
    id: u64,
    broker: mpsc::Sender<Message>,
    pushes: (mpsc::UnboundedReceiver<Push>, Arc<ClientOutput>),
    limits: ConnLimits,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ConnError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut push_rx, output) = pushes;
    let result = serve_inner(&mut stream, id, &broker, &mut push_rx, &output, limits, &mut shutdown).await;
    let _ = broker.send(Message::Disconnect { id }).await;
    let _ = stream.shutdown().await;
    result
}

async fn serve_inner<S>(
    stream: &mut S,
    id: u64,
    broker: &mpsc::Sender<Message>,
    push_rx: &mut mpsc::UnboundedReceiver<Push>,
    output: &ClientOutput,
    limits: ConnLimits,
    shutdown: &mut watch::Receiver<bool>,
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
    let mut session = Some(Session { id, ..Session::default() });
    let mut in_flight: Option<oneshot::Receiver<BatchReply>> = None;
    let mut protocol_error: Option<String> = None;
    let mut eof = false;
    loop {
        if in_flight.is_none() {
            let mut commands: VecDeque<Vec<Bytes>> = VecDeque::new();
            while protocol_error.is_none() {
                match decoder.decode(&mut buf) {
                    Ok(Some(argv)) => commands.push_back(argv),
                    Ok(None) => break,
                    Err(e) => protocol_error = Some(e.0),
                }
            }
            if !commands.is_empty() && !eof {
                let (tx, rx) = oneshot::channel();
                let session = session.take().expect("session is home when nothing is in flight");
                broker
                    .send(Message::Batch(Batch { session, commands, reply: tx }))
                    .await
                    .map_err(|_| ConnError::BrokerGone)?;
                in_flight = Some(rx);
            } else if let Some(msg) = protocol_error.take() {
                let proto = session.as_ref().map_or(Protocol::Resp2, |s| s.proto);
                let mut out = BytesMut::new();
                Frame::error_owned(format!("ERR {msg}")).encode(proto, &mut out);
                stream.write_all(&out).await?;
                return Ok(());
            } else if eof || *shutdown.borrow() {
                return Ok(());
            }
        }
        let want_read = !eof && in_flight.is_none() || buf.len() < 64 * 1024;
        if buf.capacity() - buf.len() < 4096 {
            let wanted = decoder.bytes_wanted().unwrap_or(0).min(1 << 20);
            buf.reserve(wanted.max(16 * 1024));
        }
        tokio::select! {
            r = stream.read_buf(&mut buf), if want_read && !eof => {
                if r? == 0 {
                    eof = true;
                    if in_flight.is_some() {
                        // Like Redis, a closed client is dropped: tell the broker
                        // now so a blocked command stops waiting.
                        let _ = broker.send(Message::Disconnect { id }).await;
                    }
                } else if buf.len() > limits.query_buffer_limit {
                    let mut out = BytesMut::new();
                    Frame::error("ERR Protocol error: client query buffer limit exceeded").encode(Protocol::Resp2, &mut out);
                    stream.write_all(&out).await?;
                    return Ok(());
                }
            }
            reply = async { in_flight.as_mut().expect("guarded").await }, if in_flight.is_some() => {
                in_flight = None;
                let reply = reply.map_err(|_| ConnError::BrokerGone)?;
                parked = false;
                while received < reply.pushes_before {
                    match push_rx.try_recv() {
                        Ok(Push::Data(data)) => {
                            received += 1;
                            held.push_back((received, data));
                        }
                        Ok(Push::Parked) => received += 1,
                        Ok(Push::Kill) | Err(mpsc::error::TryRecvError::Disconnected) => return Ok(()),
                        Err(mpsc::error::TryRecvError::Empty) => break,
                    }
                }
                let mut pushed = 0;
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
                if !out.is_empty() {
                    write(stream, &out, output).await?;
                    output.written(pushed);
                }
                let close = reply.session.close;
                session = Some(reply.session);
                if close {
                    return Ok(());
                }
            }
            push = push_rx.recv() => {
                match push {
                    Some(Push::Data(data)) => {
                        received += 1;
                        if in_flight.is_some() && !parked {
                            held.push_back((received, data));
                        } else {
                            write(stream, &data, output).await?;
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
                            write(stream, &out, output).await?;
                            output.written(pushed);
                        }
                    }
                    Some(Push::Kill) | None => {
                        // Pushes sent before the kill (a refusal's error) still go out.
                        let out: Vec<u8> = held.drain(..).flat_map(|(_, d)| d.to_vec()).collect();
                        if !out.is_empty() {
                            write(stream, &out, output).await?;
                        }
                        return Ok(());
                    }
                }
            }
            _ = output.killed() => return Ok(()),
            _ = shutdown.changed(), if in_flight.is_none() => return Ok(()),
        }
    }
}

/// Writes `data`, giving up as soon as the client is killed (a client that
/// never reads must not keep its connection task stuck in a write).
async fn write<S>(stream: &mut S, data: &[u8], output: &ClientOutput) -> Result<(), ConnError>
where
    S: AsyncWrite + Unpin,
{
    tokio::select! {
        r = stream.write_all(data) => Ok(r?),
        _ = output.killed() => Err(ConnError::Killed),
    }
}
