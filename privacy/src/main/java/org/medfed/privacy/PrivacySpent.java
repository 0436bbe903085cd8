package org.medfed.privacy;

/**
 * An (ε, δ)-DP guarantee read off an {@link RdpCurve}.
 *
 * @param epsilon by the improved conversion (Balle et al. 2020), the figure medfed reports and enforces
 * @param order the Rényi order that gave {@code epsilon}
 * @param epsilonBasic by the basic conversion ε(α) + log(1/δ)/(α − 1), for comparison with older tools
 * @param basicOrder the order that gave {@code epsilonBasic}
 */
public record PrivacySpent(double epsilon, double order, double epsilonBasic, double basicOrder, double delta) {}
