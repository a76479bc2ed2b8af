"""Which DICOM attributes identify a patient (protected health information).

Used by the inspector (hidden until the user reveals them) and by exports (removed). The list
follows the DICOM PS3.15 Annex E basic de-identification profile for the attributes that name or
locate a person, an institution or a date; every Person Name (VR "PN") counts as well.
"""

from __future__ import annotations

PHI_KEYWORDS = frozenset({
    # the patient
    "PatientName", "PatientID", "IssuerOfPatientID", "OtherPatientIDs", "OtherPatientIDsSequence",
    "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName", "PatientBirthDate",
    "PatientBirthTime", "PatientAddress", "PatientTelephoneNumbers", "PatientInsurancePlanCodeSequence",
    "MedicalRecordLocator", "MilitaryRank", "BranchOfService", "CountryOfResidence", "RegionOfResidence",
    "PatientComments", "AdditionalPatientHistory", "Occupation", "ResponsiblePerson",
    "ResponsibleOrganization", "PatientReligiousPreference", "MedicalAlerts", "Allergies",
    "EthnicGroup", "PatientAge", "PatientSex", "PatientSize", "PatientWeight",
    # people and places
    "ReferringPhysicianName", "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers",
    "PerformingPhysicianName", "NameOfPhysiciansReadingStudy", "PhysiciansOfRecord",
    "RequestingPhysician", "OperatorsName", "InstitutionName", "InstitutionAddress",
    "InstitutionalDepartmentName", "StationName", "DeviceSerialNumber",
    # the visit
    "AccessionNumber", "StudyID", "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate",
    "StudyTime", "SeriesTime", "AcquisitionTime", "ContentTime", "AcquisitionDateTime",
    "InstanceCreationDate", "InstanceCreationTime", "StudyDescription", "RequestAttributesSequence",
    "AdmissionID", "RequestedProcedureID", "PerformedProcedureStepID", "ScheduledProcedureStepID",
})


def is_phi(keyword: str, vr: str | None = None) -> bool:
    """True for an attribute that can identify a patient (listed above, or any person name)."""
    return keyword in PHI_KEYWORDS or vr == "PN"


def is_private_tag(tag) -> bool:
    """A private attribute (odd group, PS3.5 7.8): its meaning is the vendor's, so Loupe cannot tell
    whether it names the patient; vendors do put names, IDs and dates there. Treated as PHI."""
    try:
        return bool(tag.is_private)
    except AttributeError:
        return int(tag) >> 16 & 1 == 1


# Modalities whose images commonly carry text burned into the pixels (ultrasound screens,
# secondary captures of screens and reports, "other").
BURNED_IN_MODALITIES = {"US": "ultrasound", "SC": "secondary capture", "OT": "other"}
_SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"


def burned_in_warning(ds) -> str | None:
    """Why the pixels of this DICOM may show a name or an ID (None when nothing suggests it):
    BurnedInAnnotation = YES, or a modality where burned-in text is common (US, SC, OT, or a
    Secondary Capture object) unless the file says BurnedInAnnotation = NO."""
    flag = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    if flag == "YES":
        return "the file says Burned In Annotation = YES"
    if flag == "NO":
        return None
    modality = str(ds.get("Modality", "") or "").strip().upper()
    if modality in BURNED_IN_MODALITIES:
        return f"modality {modality} ({BURNED_IN_MODALITIES[modality]}) often has burned-in text"
    if str(ds.get("SOPClassUID", "")).startswith(_SECONDARY_CAPTURE_PREFIX):
        return "secondary captures often have burned-in text"
    return None


def burned_in_warning_for(path) -> str | None:
    """`burned_in_warning` of a DICOM file, from its header alone (None for other files)."""
    from desktop.core.imaging.formats import has_dicom_marker, is_dicom_path

    if not (is_dicom_path(path) and has_dicom_marker(path)):
        return None
    try:
        import pydicom

        ds = pydicom.dcmread(path, stop_before_pixels=True,
                             specific_tags=["BurnedInAnnotation", "Modality", "SOPClassUID"])
    except Exception:  # an unreadable header: the image reader says why
        return None
    return burned_in_warning(ds)


def strip_phi(ds, pseudonym: str = "ANONYMOUS") -> None:
    """Remove identifying attributes and private tags from a pydicom Dataset, in place.

    PatientName and PatientID are kept (type 2 in most IODs) but set to `pseudonym`.
    """
    ds.remove_private_tags()

    def walk(dataset):
        for elem in list(dataset):
            if elem.VR == "SQ":
                if is_phi(elem.keyword, elem.VR):
                    del dataset[elem.tag]
                    continue
                for item in elem.value:
                    walk(item)
            elif is_phi(elem.keyword, elem.VR):
                del dataset[elem.tag]

    walk(ds)
    ds.PatientName = pseudonym
    ds.PatientID = pseudonym
    ds.PatientIdentityRemoved = "YES"
