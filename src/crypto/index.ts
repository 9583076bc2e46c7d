/** secauth: the envelope around Totem datagrams on udp/udpu, and the authkey. See docs/secauth.md. */
export {
  COUNTER_MAX,
  ENVELOPE_MAGIC,
  ENVELOPE_OVERHEAD,
  ENVELOPE_VERSION,
  HEADER_BYTES,
  TAG_BYTES,
  createEnvelope,
  isPlainTotemMagic,
  type Envelope,
  type EnvelopeOptions,
  type EnvelopeStats,
  type OpenFailure,
  type OpenResult,
} from "./envelope.js";
export { EnvelopeConfigError, SUITES, suiteForMode, type EnvelopeConfigErrorCode, type EnvelopeMode, type Suite } from "./suite.js";
export { AuthKeyError, loadAuthKey, readAuthKey, inlineKey, type AuthKeyErrorCode, type ReadAuthKeyOptions } from "./keyfile.js";
export { AUTHKEY_DEFAULT_BYTES, AUTHKEY_MAX_BYTES, AUTHKEY_MIN_BYTES } from "./limits.js";
export { InvalidDigestReporter, describeRejection, type InvalidDigestReporterOptions } from "./report.js";
