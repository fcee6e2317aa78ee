//! The Redis job queue: the embedded worker drains it, and a job taken by a
//! consumer that dies before acknowledging it is delivered again.

use std::time::{Duration, Instant};

use stoa_queue::{Job, Queue};
use stoa_tests::{delete_redis_namespace, redis_url, test_namespace, TestApp};

#[tokio::test]
async fn the_embedded_worker_consumes_jobs() {
    let app = TestApp::spawn().await;
    let queue = stoa::open_queue(&app.settings)
        .await
        .expect("cannot open the app's queue");
    queue.push(&Job::Cleanup).await.expect("push");
    queue.push(&Job::Cleanup).await.expect("push");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = queue.len().await.expect("queue length");
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} job(s) still queued after 10s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn unacknowledged_jobs_are_delivered_again() {
    let url = redis_url();
    let namespace = test_namespace();
    let open = |claim_after: Duration| {
        let url = url.clone();
        let namespace = namespace.clone();
        async move {
            Queue::open(&url, &namespace, "default")
                .await
                .expect("cannot open a queue")
                .with_claim_after(claim_after)
        }
    };

    let first = open(Duration::from_millis(100)).await;
    let pushed = first.push(&Job::Cleanup).await.expect("push");
    let mut consumer_a = first.consumer("consumer-a").await.expect("consumer");
    let taken = consumer_a
        .pop(Duration::from_millis(100))
        .await
        .expect("pop")
        .expect("the job is delivered");
    assert_eq!(taken.entry_id, pushed);
    assert_eq!(taken.job, Ok(Job::Cleanup));

    // While the claim is fresh nobody else gets it.
    let patient = open(Duration::from_secs(60)).await;
    let mut patient_b = patient.consumer("consumer-b").await.expect("consumer");
    let nothing = patient_b.pop(Duration::from_millis(50)).await.expect("pop");
    assert!(nothing.is_none(), "delivered twice at once: {nothing:?}");

    // consumer-a dies without acknowledging; after claim_after another
    // process (a fresh connection) takes the same entry over.
    drop(consumer_a);
    drop(first);
    let restarted = open(Duration::from_millis(100)).await;
    let mut restarted_b = restarted.consumer("consumer-b").await.expect("consumer");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let again = restarted_b
        .pop(Duration::from_millis(100))
        .await
        .expect("pop")
        .expect("the job is delivered again");
    assert_eq!(again.entry_id, taken.entry_id);
    assert_eq!(again.job, Ok(Job::Cleanup));

    restarted.ack(&again.entry_id).await.expect("ack");
    assert_eq!(restarted.len().await.expect("len"), 0);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut consumer_c = restarted.consumer("consumer-c").await.expect("consumer");
    let done = consumer_c
        .pop(Duration::from_millis(50))
        .await
        .expect("pop");
    assert!(done.is_none(), "an acknowledged job came back: {done:?}");

    let _ = delete_redis_namespace(&url, &namespace);
}
