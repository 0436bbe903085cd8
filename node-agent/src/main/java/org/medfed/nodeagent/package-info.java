/**
 * The hospital side of medfed. The agent dials out to the coordinator, announces descriptors of its
 * local datasets (never the data), and trains and evaluates on them when asked.
 *
 * <p>Null policy for all packages below: parameters and return values are never null; optional
 * values are {@link java.util.Optional}.
 */
package org.medfed.nodeagent;
