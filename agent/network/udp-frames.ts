// The frames moved to api/net/udp-frames.ts (the control plane's UDP relay reads them too).
export * from '../../api/net/udp-frames.js';
