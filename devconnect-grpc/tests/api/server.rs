use devconnect_grpc::{Limits, pb};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::helpers::{Options, end_of, png, spawn_app, spawn_with};

#[tokio::test]
async fn the_health_service_reports_serving() {
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel().await);
    for service in ["", "devconnect.v1.DevConnectService"] {
        let check = HealthCheckRequest { service: service.to_owned() };
        let status = health.check(check).await.unwrap().into_inner().status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }
}

#[tokio::test]
async fn reflection_lists_the_services_and_describes_the_proto() {
    let app = spawn_app().await;
    let mut reflection = ServerReflectionClient::new(app.channel().await);
    let requests = [
        ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        },
        ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol("devconnect.v1.DevConnectService".into())),
        },
    ];
    let mut responses =
        reflection.server_reflection_info(futures_util::stream::iter(requests)).await.unwrap().into_inner();
    let first = responses.message().await.unwrap().unwrap().message_response.unwrap();
    let MessageResponse::ListServicesResponse(list) = first else { panic!("{first:?}") };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"devconnect.v1.DevConnectService".to_owned()), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health".to_owned()), "{names:?}");
    let second = responses.message().await.unwrap().unwrap().message_response.unwrap();
    let MessageResponse::FileDescriptorResponse(files) = second else { panic!("{second:?}") };
    assert!(!files.file_descriptor_proto.is_empty());
}

#[tokio::test]
async fn requests_over_the_size_limit_are_refused_before_decoding() {
    let limits = Limits { max_request_bytes: 1024, ..Limits::default() };
    let app = spawn_with(Options { limits, ..Options::default() }).await;
    let mut ada = app.user("Ada").await;
    let big = pb::UploadPhotoRequest { photo: vec![0x89; 4096] };
    let status = ada.client.upload_photo(ada.req(big)).await.unwrap_err();
    // tonic's own answer to an oversized message.
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    ada.client.upload_photo(ada.req(pb::UploadPhotoRequest { photo: png() })).await.unwrap();
}

#[tokio::test]
async fn shutdown_ends_open_streams_and_stops_the_server() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let mut events = ada.subscribe(None).await;
    let stopping = tokio::spawn(app.running.shutdown());
    let end = end_of(&mut events).await;
    assert_eq!(end.code(), Code::Unavailable);
    assert!(end.message().starts_with("shutting_down: "), "{end:?}");
    tokio::time::timeout(crate::helpers::WAIT, stopping).await.unwrap().unwrap().unwrap();
}
