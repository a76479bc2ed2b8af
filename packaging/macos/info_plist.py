"""The macOS Info.plist entries of Loupe.app (merged by PyInstaller's BUNDLE into its own)."""


def info_plist(version: str) -> dict:
    return {
        "CFBundleName": "Loupe",
        "CFBundleDisplayName": "Loupe",
        "CFBundleIdentifier": "org.loupe-app.Loupe",
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "CFBundlePackageType": "APPL",
        "LSMinimumSystemVersion": "12.0",
        "LSApplicationCategoryType": "public.app-category.medical",
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,
        "NSHumanReadableCopyright": "Apache-2.0",
        # Loupe reads local folders only; it never asks for the network, camera or microphone.
        "CFBundleDocumentTypes": [
            {   # a folder of images (DICOM or other): a Loupe project, dropped on the Dock icon or "Open With"
                "CFBundleTypeName": "Folder of medical images",
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Alternate",
                "LSItemContentTypes": ["public.folder"],
            },
        ],
    }
