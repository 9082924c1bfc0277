//! Events between the client and the core: the live session's items out, the client's
//! events (`typing`, `sendMessage`, `groupTyping`, `sendGroupMessage`) in, each one
//! core call answered with an ack.

use devconnect_core::{Event, GroupId, NewMessage, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Conn, End, internal};
use crate::ErrorAck;
use crate::error::error_ack;
use crate::protocol::{self, Packet, PacketType};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypingIn {
    to: String,
    typing: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendIn {
    to: String,
    #[serde(default)]
    text: String,
    client_msg_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupTypingIn {
    group_id: String,
    typing: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupSendIn {
    group_id: String,
    #[serde(default)]
    text: String,
    client_msg_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TypingOut {
    user_id: UserId,
    typing: bool,
}

#[derive(Serialize)]
struct Success {
    success: bool,
}

impl Conn<'_> {
    pub(super) async fn send_online(&mut self, online: &[UserId]) -> Result<(), End> {
        self.send(protocol::encode_event("getOnlineUsers", &online, None).map_err(|e| internal(&e))?).await
    }

    pub(super) async fn send_event(&mut self, event: &Event) -> Result<(), End> {
        let name = event.name();
        let frame = match event {
            Event::NewMessage(m) => protocol::encode_event(name, &**m, None),
            Event::ConnectionRequest(r) => protocol::encode_event(name, &**r, None),
            Event::ConnectionAccepted(r) => protocol::encode_event(name, &**r, None),
            Event::Typing { user_id, typing } => {
                protocol::encode_event(name, &TypingOut { user_id: *user_id, typing: *typing }, None)
            }
            Event::MessagesRead(r) => protocol::encode_event(name, &**r, None),
            Event::GroupMemberAdded(added) => protocol::encode_event(name, &**added, None),
            Event::GroupMemberRemoved(removed) => protocol::encode_event(name, &**removed, None),
            Event::GroupUpdated(group) => protocol::encode_event(name, &**group, None),
            Event::GroupMessage(m) => protocol::encode_event(name, &**m, None),
            Event::GroupTyping(t) => protocol::encode_event(name, &**t, None),
            Event::GroupRead(r) => protocol::encode_event(name, &**r, None),
            Event::Presence { .. } => return Ok(()),
        };
        self.send(frame.map_err(|e| internal(&e))?).await
    }

    pub(super) async fn on_packet(&mut self, me: UserId, packet: Packet) -> Result<(), End> {
        if packet.namespace != "/" {
            if packet.kind == PacketType::Connect {
                self.send(protocol::encode_namespace_error(&packet.namespace)).await?;
            }
            return Ok(());
        }
        match packet.kind {
            PacketType::Event => {
                let mut args = match packet.data {
                    Some(Value::Array(args)) => args.into_iter(),
                    _ => return Err(End::Protocol("an event must be an array")),
                };
                let Some(Value::String(name)) = args.next() else {
                    return Err(End::Protocol("an event needs a name"));
                };
                let arg = args.next().unwrap_or(Value::Null);
                let reply = self.on_event(me, &name, arg).await;
                match (packet.ack_id, reply) {
                    (Some(id), reply) => {
                        let frame = match reply {
                            Ok(value) => protocol::encode_ack(id, &value),
                            Err(err) => protocol::encode_ack(id, &err),
                        };
                        self.send(frame.map_err(|e| internal(&e))?).await
                    }
                    (None, Err(err)) => {
                        tracing::debug!(event = %name, code = %err.code, "client event failed (no ack requested)");
                        Ok(())
                    }
                    (None, Ok(_)) => Ok(()),
                }
            }
            PacketType::Disconnect => Err(End::PeerClosed),
            // Acks (we never ask for any), repeated CONNECTs, errors: nothing to do.
            _ => Ok(()),
        }
    }

    /// Runs one client event: decode, one core call, encode the acknowledgement.
    async fn on_event(&mut self, me: UserId, name: &str, arg: Value) -> Result<Value, ErrorAck> {
        let app = &self.inner.app;
        match name {
            "typing" => {
                let input: TypingIn = serde_json::from_value(arg)
                    .map_err(|_| ErrorAck::new("validation", "typing expects {to, typing}"))?;
                let to = UserId::parse("to", &input.to).map_err(|e| error_ack(&e.into()))?;
                Box::pin(app.typing(me, to, input.typing)).await.map_err(|err| error_ack(&err))?;
                to_value(&Success { success: true })
            }
            "sendMessage" => {
                let input: SendIn = serde_json::from_value(arg)
                    .map_err(|_| ErrorAck::new("validation", "sendMessage expects {to, text, clientMsgId?}"))?;
                let to = UserId::parse("to", &input.to).map_err(|e| error_ack(&e.into()))?;
                let message = NewMessage { text: input.text, client_msg_id: input.client_msg_id, image: None };
                let sent = Box::pin(app.send_message(me, to, message)).await.map_err(|err| error_ack(&err))?;
                to_value(&sent.message)
            }
            "groupTyping" => {
                let input: GroupTypingIn = serde_json::from_value(arg)
                    .map_err(|_| ErrorAck::new("validation", "groupTyping expects {groupId, typing}"))?;
                let group = GroupId::parse("groupId", &input.group_id).map_err(|e| error_ack(&e.into()))?;
                Box::pin(app.group_typing(me, group, input.typing)).await.map_err(|err| error_ack(&err))?;
                to_value(&Success { success: true })
            }
            "sendGroupMessage" => {
                let input: GroupSendIn = serde_json::from_value(arg).map_err(|_| {
                    ErrorAck::new("validation", "sendGroupMessage expects {groupId, text, clientMsgId?}")
                })?;
                let group = GroupId::parse("groupId", &input.group_id).map_err(|e| error_ack(&e.into()))?;
                let message = NewMessage { text: input.text, client_msg_id: input.client_msg_id, image: None };
                let sent = Box::pin(app.send_group_message(me, group, message)).await.map_err(|err| error_ack(&err))?;
                to_value(&sent.message)
            }
            _ => Err(ErrorAck::new("validation", format!("unknown event {name:?}"))),
        }
    }
}

fn to_value(value: &impl Serialize) -> Result<Value, ErrorAck> {
    serde_json::to_value(value).map_err(|err| {
        tracing::error!(%err, "could not encode an acknowledgement");
        ErrorAck::new("internal", "internal error")
    })
}
