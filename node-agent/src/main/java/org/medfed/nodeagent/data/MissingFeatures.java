package org.medfed.nodeagent.data;

/**
 * What a hospital does when a job names features its data lacks: refuse the job (the default), or
 * fill the missing columns with a stated value. Either way the missing ids are reported.
 */
public record MissingFeatures(boolean impute, float value) {
  public static final MissingFeatures FAIL = new MissingFeatures(false, 0f);

  public static MissingFeatures imputeWith(float value) {
    if (!Float.isFinite(value)) {
      throw new IllegalArgumentException("the imputed value must be a finite number, got " + value);
    }
    return new MissingFeatures(true, value);
  }

  @Override
  public String toString() {
    return impute ? "impute " + value : "fail";
  }
}
