//! Wharf's HTTP API: a stateless server in front of Wharf's custom resources, with
//! Kubernetes-native authentication (TokenReview) and authorization
//! (SubjectAccessReview).
