package org.medfed.nodeagent.privacy;

import java.util.Locale;
import java.util.Optional;
import org.medfed.nodeagent.training.DpSgdSettings;
import org.medfed.nodeagent.training.TrainingPlan;
import org.medfed.privacy.NoiseCalibration;
import org.medfed.privacy.RdpCurve;
import org.medfed.privacy.SampledGaussian;
import org.medfed.proto.v1.PrivacySettings;

/**
 * What a job's differential privacy means at this hospital: the sample rate from its own number of
 * records, the steps a round takes, and the noise multiplier, given by the job or derived here so
 * that the job's rounds spend its target ε at this hospital. A small hospital thus adds more noise,
 * never spends more.
 *
 * @param settings how this hospital runs DP-SGD each round
 * @param perRound the RDP one round spends here
 * @param delta the job's δ, at which ε is reported
 * @param derived how σ was found, for the log and the operator: "given by the job" or "derived from ε = 3"
 */
public record HospitalPrivacy(DpSgdSettings settings, RdpCurve perRound, double delta, String derived) {

  /** What the job's rounds, all of them, would spend here, at the job's δ. */
  public double jobEpsilon(int rounds) {
    return perRound.times(Math.max(1, rounds)).epsilon(delta).epsilon();
  }

  /** Empty when the job does not ask for DP-SGD. */
  public static Optional<HospitalPrivacy> of(PrivacySettings privacy, TrainingPlan plan, int records) {
    return of(privacy, plan.batchSize(), DpSgdSettings.stepsPerRound(plan, records), records);
  }

  /** The same from the plan on the wire, for what an operator sees before approving. */
  public static Optional<HospitalPrivacy> of(PrivacySettings privacy, org.medfed.proto.v1.TrainingPlan plan,
      int records) {
    return of(privacy, plan.getBatchSize(), DpSgdSettings.stepsPerRound(plan.getLocalSteps(),
        Math.max(1, plan.getLocalEpochs()), Math.max(1, plan.getBatchSize()), records), records);
  }

  private static Optional<HospitalPrivacy> of(PrivacySettings privacy, int batchSize, long steps, int records) {
    if (privacy.getDpClip() == 0) {
      return Optional.empty();
    }
    if (records < 1) {
      throw new IllegalArgumentException("DP-SGD needs training records; this dataset has none");
    }
    double q = Math.min(1, (double) Math.max(1, batchSize) / records);
    double sigma;
    String derived;
    if (privacy.getDpNoiseMultiplier() > 0) {
      sigma = privacy.getDpNoiseMultiplier();
      derived = "noise multiplier given by the job";
    } else {
      long totalSteps = steps * Math.max(1, privacy.getDpRounds());
      sigma = NoiseCalibration.noiseMultiplier(privacy.getDpTargetEpsilon(), privacy.getDpDelta(), q, totalSteps,
          RdpCurve.DEFAULT_ORDERS);
      derived = String.format(Locale.ROOT, "derived here so that %d rounds of %d steps at q = %.4g (%d records)"
          + " spend epsilon %.3g at delta %.1e", privacy.getDpRounds(), steps, q, records,
          privacy.getDpTargetEpsilon(), privacy.getDpDelta());
    }
    DpSgdSettings settings = new DpSgdSettings(privacy.getDpClip(), sigma, q, steps);
    return Optional.of(new HospitalPrivacy(settings, SampledGaussian.steps(q, sigma, steps, RdpCurve.DEFAULT_ORDERS),
        privacy.getDpDelta(), derived));
  }
}
