// Package s3remote is the S3 engine of the cache's remote tier: importing it makes
// cache.OpenRemote (and so CACHEGEN_REMOTE) accept s3:// URLs, for Amazon S3 and the servers
// that speak its protocol (versitygw, Ceph RGW, Garage, SeaweedFS, Cloudflare R2, Google
// Cloud Storage's XML API, ...).
//
//	import _ "github.com/cachegen/cachegen/runtime/cache/s3remote"
//
//	CACHEGEN_REMOTE='s3://my-build-cache/myapp/?region=eu-west-1'
//	CACHEGEN_REMOTE='s3://cache/ci?endpoint=s3.internal:7070&tls=false'
//
// Each entry is one object, named by the prefix and the key, written with one PUT of its
// exact size and read with one GET, whose body is left unread when the response announces
// more bytes than the reader's limit.
//
// # URL
//
//	s3://BUCKET[/PREFIX][?PARAMETERS]
//
// The objects are named PREFIX/KEY (a slash is added after a prefix that lacks one), or KEY
// without a prefix. The parameters:
//
//	endpoint  host[:port] of the server (default s3.amazonaws.com)
//	tls       false to speak plain HTTP to the endpoint (default true: HTTPS)
//	region    the bucket's region (default $AWS_REGION, then $AWS_DEFAULT_REGION; when all
//	          are empty the client asks the server once per bucket)
//	lookup    how the bucket is addressed: path (endpoint/bucket/object), dns
//	          (bucket.endpoint/object), or auto (default: dns for Amazon and a few other
//	          known services, path for the rest)
//	maxsize   the largest entry stored, in bytes or with a suffix K, M or G (binary,
//	          "64MiB"): larger puts are refused with cache.ErrRemoteTooLarge (default and
//	          limit 5GiB, the most one PUT may store)
//
// Any other parameter is an error, and so are credentials in the URL.
//
// # Credentials
//
// Open takes the first credentials found (see DefaultCredentials): AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary ones) from the environment;
// the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile
// AWS_PROFILE or default); the IAM role of the EC2 instance, ECS task or EKS pod (web
// identity). Without any, requests go unsigned, which a public bucket answers. Secrets never
// appear in errors. A refused key, secret or permission (403, or codes such as AccessDenied,
// InvalidAccessKeyId, SignatureDoesNotMatch) is cache.ErrRemoteDenied, after which the Cache
// stops uploading: a reader-only key (s3:GetObject alone) is a supported set-up. A writer
// needs s3:GetObject and s3:PutObject on arn:aws:s3:::BUCKET/PREFIX/*; nothing else is asked
// for when the region is given.
//
// # Server set-up
//
// Create the bucket beforehand (the engine never creates one, and a missing bucket is an
// error, not a miss), for example with the AWS CLI:
//
//	aws s3api create-bucket --bucket my-build-cache --region eu-west-1 \
//	    --create-bucket-configuration LocationConstraint=eu-west-1
//
// S3 keeps objects until they are deleted, so give the prefix a lifecycle rule that expires
// entries, for example after 30 days (an expired entry that is still used is computed and
// uploaded again):
//
//	aws s3api put-bucket-lifecycle-configuration --bucket my-build-cache \
//	    --lifecycle-configuration '{"Rules":[{"ID":"cachegen-expiry","Status":"Enabled",
//	      "Filter":{"Prefix":"myapp/"},"Expiration":{"Days":30},
//	      "AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}}]}'
//
// Versioning should stay off: every overwrite of an entry would keep the old version.
//
// # Timeouts and tuning
//
// DialTimeout of the RemoteConfig bounds connecting (default 1s); RequestTimeout (default 5s)
// bounds the wait for a response's headers, after an upload's last byte; IdleTimeout
// (default 5s) bounds the pauses of a transfer: a body whose bytes stop flowing for that
// long is abandoned, however long the whole transfer takes. Get and Put return when their
// context is done. Requests are not retried: a cache computes rather than waits for a store
// in trouble. Connections are kept alive and reused (16 idle ones per host).
//
// Put the bucket in the region of the machines that use it, and prefer the endpoint of a VPC
// or of the same data center: entries are read on the critical path of a miss. Programs that
// need another client configuration (a custom transport, retries, a credentials provider)
// build a *minio.Client and pass it to New.
package s3remote
