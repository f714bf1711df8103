//! The hickory request handler: cluster names from [`Records`], everything else upstream.

use std::sync::{Arc, RwLock};

use hickory_proto::op::Query;
use hickory_proto::op::{
    Edns, Header, HeaderCounts, Message, MessageType, Metadata, OpCode, ResponseCode,
};
use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;

use crate::records::{Lookup, Records};
use crate::upstream::Upstreams;

/// The records every query reads and the watches keep current.
pub type SharedRecords = Arc<RwLock<Records>>;

/// Answers DNS requests for one node.
pub struct ClusterDns {
    pub records: SharedRecords,
    pub upstreams: Upstreams,
}

#[async_trait::async_trait]
impl RequestHandler for ClusterDns {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let edns = response_edns(request);
        let builder = || {
            let mut builder = MessageResponseBuilder::from_message_request(request);
            if let Some(edns) = &edns {
                builder.edns(edns);
            }
            builder
        };
        let metadata = &request.metadata;
        if metadata.message_type != MessageType::Query || metadata.op_code != OpCode::Query {
            let message = builder().error_msg(metadata, ResponseCode::NotImp);
            return sent(response.send_response(message).await, metadata);
        }
        let Ok(info) = request.request_info() else {
            let message = builder().error_msg(metadata, ResponseCode::FormErr);
            return sent(response.send_response(message).await, metadata);
        };
        let name = info.query.name().to_string();
        let record_type = info.query.query_type();
        let (lookup, soa) = {
            let records = self
                .records
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            (records.lookup(&name, record_type), records.soa())
        };
        match lookup {
            Lookup::Local {
                nx_domain,
                mut answers,
                additionals,
            } => {
                if let Some(target) = lone_cname_target(&answers, record_type) {
                    answers.extend(self.resolve_target(target, record_type).await);
                }
                let mut reply = Metadata::response_from_request(metadata);
                reply.authoritative = true;
                reply.recursion_available = true;
                if nx_domain {
                    reply.response_code = ResponseCode::NXDomain;
                }
                let authority: Vec<Record> = if answers.is_empty() {
                    soa.into_iter().collect()
                } else {
                    Vec::new()
                };
                let message = builder().build(
                    reply,
                    answers.iter(),
                    std::iter::empty(),
                    authority.iter(),
                    additionals.iter(),
                );
                sent(response.send_response(message).await, metadata)
            }
            Lookup::Forward => {
                let forwarded = self
                    .upstreams
                    .forward(request.as_slice())
                    .await
                    .and_then(|bytes| Message::from_vec(&bytes).ok());
                let Some(upstream) = forwarded else {
                    tracing::debug!(%name, "no upstream answered");
                    let message = builder().error_msg(metadata, ResponseCode::ServFail);
                    return sent(response.send_response(message).await, metadata);
                };
                let mut reply = upstream.metadata;
                reply.id = metadata.id;
                reply.authoritative = false;
                let message = builder().build(
                    reply,
                    upstream.answers.iter(),
                    upstream.authorities.iter(),
                    std::iter::empty(),
                    upstream.additionals.iter(),
                );
                sent(response.send_response(message).await, metadata)
            }
        }
    }
}

impl ClusterDns {
    /// The `record_type` records of an ExternalName target: from the cluster zone when it lies
    /// there, else from upstream (CoreDNS answers the CNAME and its target's addresses together).
    async fn resolve_target(&self, target: Name, record_type: RecordType) -> Vec<Record> {
        let local = {
            let records = self
                .records
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            records.lookup(&target.to_ascii(), record_type)
        };
        if let Lookup::Local { answers, .. } = local {
            return answers;
        }
        let mut query = Message::query();
        query.metadata.id = query_id(&target);
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(target, record_type));
        let Ok(bytes) = query.to_vec() else {
            return Vec::new();
        };
        self.upstreams
            .forward(&bytes)
            .await
            .and_then(|answer| Message::from_vec(&answer).ok())
            .map(|answer| answer.answers)
            .unwrap_or_default()
    }
}

/// The target when the answer is only an ExternalName's CNAME and addresses were asked for.
fn lone_cname_target(answers: &[Record], record_type: RecordType) -> Option<Name> {
    if !matches!(record_type, RecordType::A | RecordType::AAAA) {
        return None;
    }
    match answers {
        [record] => match &record.data {
            RData::CNAME(CNAME(target)) => Some(target.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A query id that differs per name and moment; upstream answers are matched by it.
fn query_id(name: &Name) -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    let mut hash = nanos;
    for byte in name.to_ascii().bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(u32::from(byte));
    }
    (hash & 0xffff) as u16
}

/// EDNS for the response when the query had it: the client's buffer size, at least 512.
fn response_edns(request: &Request) -> Option<Edns> {
    let client = request.edns.as_ref()?;
    let mut edns = Edns::new();
    edns.set_max_payload(client.max_payload().max(512));
    Some(edns)
}

fn sent(
    result: Result<ResponseInfo, hickory_server::net::NetError>,
    request: &Metadata,
) -> ResponseInfo {
    result.unwrap_or_else(|error| {
        tracing::debug!(%error, "sending DNS response");
        let mut metadata = Metadata::response_from_request(request);
        metadata.response_code = ResponseCode::ServFail;
        ResponseInfo::from(Header {
            metadata,
            counts: HeaderCounts::default(),
        })
    })
}
