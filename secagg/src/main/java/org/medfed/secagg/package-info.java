/**
 * Secure aggregation: the coordinator learns the sum of the hospitals' quantized updates and
 * nothing else (Bonawitz et al., CCS 2017; SecAgg+ masking graphs of Bell et al., CCS 2020).
 *
 * <p>A pure library: {@code crypto} holds the primitives (X25519, HKDF-SHA256, AES-256-GCM share
 * encryption, Shamir t-of-n, AES-256-CTR mask expansion), {@code quant} the overflow-safe
 * quantization, {@code protocol} the client and server state machines for the five stages
 * (the fifth, the consistency check, against an active server). No
 * networking, no files, no clocks: callers move the messages.
 *
 * <p>Null policy: parameters and return values are never null. Byte arrays are copied in and out.
 */
package org.medfed.secagg;
