/**
 * The consortium side of medfed: accepts jobs, runs their rounds against connected hospital agents,
 * aggregates updates and checkpoints the global model.
 *
 * <p>Null policy for all packages below: parameters and return values are never null; optional
 * values are {@link java.util.Optional}.
 */
package org.medfed.coordinator;
