"""The EHR interface over HL7 v2: an MLLP listener and a file-drop mode that
apply ADT, SIU and DFT messages through `pms_core.services.interface` and
answer each with an ACK."""
