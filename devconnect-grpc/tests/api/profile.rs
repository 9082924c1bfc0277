use devconnect_grpc::pb;
use tonic::Code;

use crate::helpers::{assert_error, png, spawn_app};

#[tokio::test]
async fn anyone_can_view_a_public_profile_without_its_email() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let bob = app.user("Bob").await;
    let profile = ada.client.get_profile(ada.req(pb::GetProfileRequest { user_id: bob.id.clone() })).await;
    let profile = profile.unwrap().into_inner();
    assert_eq!((profile.id.as_str(), profile.first_name.as_str()), (bob.id.as_str(), "Bob"));
    let me = ada.client.get_me(ada.req(pb::GetMeRequest {})).await.unwrap().into_inner();
    assert_eq!(me.email_id, "ada@example.com");
}

#[tokio::test]
async fn unknown_and_malformed_profile_ids_are_not_found_and_invalid() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let unknown = ada.client.get_profile(ada.req(pb::GetProfileRequest { user_id: "a".repeat(24) })).await;
    assert_error(unknown, Code::NotFound, "not_found");
    let malformed = ada.client.get_profile(ada.req(pb::GetProfileRequest { user_id: "xyz".into() })).await;
    assert_error(malformed, Code::InvalidArgument, "validation");
}

#[tokio::test]
async fn edits_change_only_the_given_fields_and_invalid_ones_change_nothing() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let edit = pb::EditProfileRequest {
        about: Some("Rustacean".into()),
        skills: Some(pb::SkillList { skills: vec!["Go".into(), "go".into(), "SQL".into()] }),
        gender: Some(pb::Gender::Others.into()),
        ..Default::default()
    };
    let me = ada.client.edit_profile(ada.req(edit)).await.unwrap().into_inner().profile.unwrap();
    assert_eq!(me.about, "Rustacean");
    assert_eq!(me.skills, ["Go", "SQL"]);
    assert_eq!(me.gender, i32::from(pb::Gender::Others));
    assert_eq!((me.first_name.as_str(), me.age), ("Ada", Some(30)));

    let bad = pb::EditProfileRequest { about: Some("x".into()), age: Some(200), ..Default::default() };
    assert_error(ada.client.edit_profile(ada.req(bad)).await, Code::InvalidArgument, "validation");
    let unspecified = pb::EditProfileRequest { gender: Some(pb::Gender::Unspecified.into()), ..Default::default() };
    assert_error(ada.client.edit_profile(ada.req(unspecified)).await, Code::InvalidArgument, "validation");
    let me = ada.client.get_me(ada.req(pb::GetMeRequest {})).await.unwrap().into_inner().profile.unwrap();
    assert_eq!((me.about.as_str(), me.age), ("Rustacean", Some(30)));
}

#[tokio::test]
async fn a_photo_upload_sets_the_photo_url_and_bad_bytes_are_refused() {
    let app = spawn_app().await;
    let mut ada = app.user("Ada").await;
    let me = ada.client.upload_photo(ada.req(pb::UploadPhotoRequest { photo: png() })).await.unwrap().into_inner();
    let url = me.profile.unwrap().photo_url.unwrap();
    // Absolute, under the REST server's address (which serves the images).
    assert!(url.starts_with("http://127.0.0.1:3000/media/") && url.ends_with(".png"), "{url}");
    let text = ada.client.upload_photo(ada.req(pb::UploadPhotoRequest { photo: b"GIF89a....".to_vec() })).await;
    assert_error(text, Code::InvalidArgument, "unsupported_media_type");
    let empty = ada.client.upload_photo(ada.req(pb::UploadPhotoRequest { photo: Vec::new() })).await;
    assert_error(empty, Code::InvalidArgument, "validation");
}
