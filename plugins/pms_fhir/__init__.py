"""FHIR R4 bulk data: NDJSON export of Patient, Coverage, Appointment, Claim and
ExplanationOfBenefit, and import of Patient and Coverage through the import
engine."""
